"""`banyan plan | deploy | history | diff | rollback | promote | db upgrade`."""
from __future__ import annotations

import sys

import click

from runtime.cli.common import compile_bundle, engine_for, env_option, fail, fail_error, handle_errors, when
from runtime.cli.main import main
from runtime.deploy.deployments import DataLossRefused, DeployError, DeploymentRegistry, default_author
from runtime.deploy.plan import Plan, plan_lines
from runtime.deploy.releases import release_of


def _registry(env: str | None) -> DeploymentRegistry:
    return DeploymentRegistry(engine_for(env))


def print_plan(plan: Plan, allow: bool | tuple = False) -> None:
    for text, colour in plan_lines(plan):
        click.secho(text, fg=colour, bold=text.startswith("  ") and "lose data;" in text)


@main.command()
@click.argument("path", default="configs", type=click.Path())
@env_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@handle_errors
def plan(path: str, env: str | None, fmt: str) -> None:
    """Show what deploying PATH would change. Exit 0: nothing; 1: changes; 2: error."""
    import json
    bundle = compile_bundle(path)
    result = _registry(env).plan(release_of(bundle))
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_plan(result)
    sys.exit(0 if result.same else 1)


def _loss_option(fn):
    fn = click.option("--allow-loss-of", "allow_names", multiple=True, metavar="NAME",
                      help="Accept the loss of just this table or field (entity or entity.field).")(fn)
    return click.option("--allow-data-loss", is_flag=True, help="Accept every data-losing change in the plan.")(fn)


def _run_deploy(reg: DeploymentRegistry, fn, allow_all: bool, allow_names: tuple, **kwargs) -> None:
    allow = True if allow_all else allow_names
    try:
        out = fn(allow_data_loss=allow, on_step=lambda m: click.echo(f"  … {m}"), **kwargs)
    except DataLossRefused as exc:
        print_plan(exc.plan)
        fail_error(exc, 1, "; nothing was changed")
    except DeployError as exc:
        if exc.plan is not None:
            print_plan(exc.plan)
        fail_error(exc, 1, "; nothing was changed")
    if not out.applied:
        click.secho(f"✓ already deployed: v{out.version} ({out.plan.to_hash[:12]}); nothing to do", fg="green")
        return
    print_plan(out.plan)
    click.secho(f"✓ deployed v{out.version} ({out.plan.to_hash[:12]})", fg="green")


@main.command()
@click.argument("path", default="configs", type=click.Path())
@click.option("-m", "--message", default="", help="Why this deploy.")
@_loss_option
@env_option
@handle_errors
def deploy(path: str, message: str, allow_data_loss: bool, allow_names: tuple, env: str | None) -> None:
    """Deploy the bundle at PATH: all of it in one transaction, or nothing."""
    bundle = compile_bundle(path)
    reg = _registry(env)
    _run_deploy(reg, reg.deploy, allow_data_loss, allow_names, release=release_of(bundle),
                author=default_author(), message=message)


@main.command()
@click.argument("version", type=int)
@click.option("-m", "--message", default="")
@_loss_option
@env_option
@handle_errors
def rollback(version: int, message: str, allow_data_loss: bool, allow_names: tuple, env: str | None) -> None:
    """Deploy an earlier VERSION again (a new version with that bundle)."""
    reg = _registry(env)
    _run_deploy(reg, reg.rollback, allow_data_loss, allow_names, version=version, author=default_author(),
                message=message)


@main.command()
@click.option("--from", "source", required=True, metavar="ENV", help="Environment to take the bundle from.")
@click.option("--to", "target", required=True, metavar="ENV", help="Environment to deploy it to.")
@click.option("-m", "--message", default="")
@_loss_option
@handle_errors
def promote(source: str, target: str, message: str, allow_data_loss: bool, allow_names: tuple) -> None:
    """Deploy exactly what runs in one environment (same hash, no recompiling) to another."""
    if source == target:
        fail("--from and --to name the same environment")
    src, dst = _registry(source), _registry(target)
    _run_deploy(dst, dst.promote, allow_data_loss, allow_names, source=src, source_name=source,
                author=default_author(), message=message)


@main.command()
@env_option
@handle_errors
def history(env: str | None) -> None:
    """List the deployments, oldest first."""
    rows = _registry(env).history()
    if not rows:
        click.echo("nothing deployed yet")
        return
    for d in rows:
        note = f" ← {d.based_on}" if d.based_on else ""
        click.echo(f"v{d.version:<4} {when(d.created_at, seconds=True)}  {d.hash[:12]}  {d.action:8}{note:14} "
                   f"{d.author}  {d.message}")


@main.command()
@click.argument("v1", type=int)
@click.argument("v2", type=int)
@env_option
@handle_errors
def diff(v1: int, v2: int, env: str | None) -> None:
    """What changed from deployment V1 to V2 (documents and tables). Exit 1 when they differ."""
    result = _registry(env).diff(v1, v2)
    print_plan(result)
    sys.exit(0 if result.same else 1)


@main.group()
def db() -> None:
    """Banyan's own tables."""


@db.command("upgrade")
@env_option
@handle_errors
def db_upgrade(env: str | None) -> None:
    """Apply pending migrations of Banyan's own tables."""
    from runtime.storage.migrate import upgrade
    click.echo(f"✓ at revision {upgrade(engine_for(env))}")
