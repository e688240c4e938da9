"""`banyan plan | deploy | history | diff | rollback | promote | changes | db upgrade`.

A deploy, rollback or promote to an environment marked `protected = true` in banyan.toml (or to a
database under change control, however its URL is spelled: `DeploymentRegistry` refuses a straight
deploy there from any door) does not deploy: it stores a change request and starts its
`config_change_approval` flow, prints who may approve it and exits 3 (EXIT_WAITING). A second
person approves it through the flow (`banyan flow act … approve`, the web inbox); the worker
(`banyan worker`, `banyan serve`) — or `banyan changes apply` — then deploys exactly the approved
bundle."""
from __future__ import annotations

import sys

import click

from runtime.cli.common import compile_bundle, engine_for, env_option, fail, fail_error, handle_errors, when
from runtime.cli.main import main
from runtime.deploy.deployments import DataLossRefused, DeployError, DeploymentRegistry, default_author
from runtime.deploy.plan import Plan, plan_lines
from runtime.deploy.releases import release_of
from runtime.storage.db import database_url, environment_settings, same_database

EXIT_WAITING = 3          # a protected environment's change waits for its approver


def _registry(env: str | None) -> DeploymentRegistry:
    return DeploymentRegistry(engine_for(env))


def _protected(env: str | None) -> str | None:
    """The name of the protected environment the command writes to: `--env NAME` marked
    `protected = true` in banyan.toml; without `--env`, the protected environment whose URL names
    the database `BANYAN_DATABASE_URL` names, however either is spelled (`same_database`); and
    in any case a database under change control (it holds change requests), whatever the config
    file says — the registry refuses a straight deploy there too. None when it is not protected."""
    settings = environment_settings()
    if env and settings.get(env, {}).get("protected", False):
        return env
    if not env:
        url = database_url()
        found = next((name for name, s in sorted(settings.items()) if s["protected"] and same_database(s["url"], url)),
                     None)
        if found:
            return found
    return _registry(env).protected_as()


def _request_change(env: str, release, *, action: str, based_on: str | None, message: str, allow_all: bool,
                    allow_names: tuple, target: str | None) -> None:
    """Store the change to the protected environment `env` (the database of `--env target`, or
    of BANYAN_DATABASE_URL) and start its approval flow; exit 3 (waiting) or 0 (nothing to change)."""
    from runtime.change_control.service import FLOW, ChangeControl
    control = ChangeControl(engine_for(target))
    try:
        plan, req = control.request(release, environment=env, maker=default_author(), action=action,
                                    based_on=based_on, message=message,
                                    allow_data_loss=True if allow_all else allow_names)
    except DeployError as exc:
        if exc.plan is not None:
            print_plan(exc.plan)
        fail_error(exc, 1, "; nothing was changed")
    print_plan(plan)
    if req is None:
        click.secho(f"✓ already deployed: v{plan.from_version} ({plan.to_hash[:12]}); nothing to do", fg="green")
        return
    who = f"approvers {req['assignees']}" if req["assignees"] else f"step {req['step']}"
    where = f" --env {env}" if env in environment_settings() else ""     # else the same BANYAN_DATABASE_URL
    click.secho(f"⏸ `{env}` is protected: nothing was deployed; waiting for approval: request {req['id']}, {who}",
                fg="yellow", bold=True)
    click.echo(f"  may approve: {', '.join(req['approvers'])} (flow {FLOW}, instance {req['instance']}); "
               f"they see the plan and the diff in their inbox or with `banyan changes show {req['id']}{where}`")
    click.echo(f"  once approved, the worker deploys bundle {release.hash[:12]} (or `banyan changes apply{where}`)")
    sys.exit(EXIT_WAITING)


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
    """Deploy the bundle at PATH: all of it in one transaction, or nothing. To a protected
    environment: ask for approval and exit 3 (waiting)."""
    bundle = compile_bundle(path)
    protected = _protected(env)
    if protected:
        _request_change(protected, release_of(bundle), action="deploy", based_on=None, message=message,
                        allow_all=allow_data_loss, allow_names=allow_names, target=env)
        return
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
    """Deploy an earlier VERSION again (a new version with that bundle). To a protected
    environment: ask for approval and exit 3 (waiting)."""
    reg = _registry(env)
    protected = _protected(env)
    if protected:
        _request_change(protected, reg.get(version).release, action="rollback", based_on=str(version),
                        message=message or f"rollback to v{version}", allow_all=allow_data_loss,
                        allow_names=allow_names, target=env)
        return
    _run_deploy(reg, reg.rollback, allow_data_loss, allow_names, version=version, author=default_author(),
                message=message)


@main.command()
@click.option("--from", "source", required=True, metavar="ENV", help="Environment to take the bundle from.")
@click.option("--to", "target", required=True, metavar="ENV", help="Environment to deploy it to.")
@click.option("-m", "--message", default="")
@_loss_option
@handle_errors
def promote(source: str, target: str, message: str, allow_data_loss: bool, allow_names: tuple) -> None:
    """Deploy exactly what runs in one environment (same hash, no recompiling) to another. To a
    protected environment: ask for approval and exit 3 (waiting)."""
    if source == target:
        fail("--from and --to name the same environment")
    src, dst = _registry(source), _registry(target)
    protected = _protected(target)
    if protected:
        live = src.current()
        if live is None:
            fail_error(DeployError(f"nothing is deployed in `{source}`"), 1)
        _request_change(protected, live.release, action="promote", based_on=f"{source} v{live.version}",
                        message=message or f"promoted from {source} v{live.version}", allow_all=allow_data_loss,
                        allow_names=allow_names, target=target)
        return
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
def changes() -> None:
    """Change requests of a protected environment: list, show (plan and diff), apply the approved."""


def _control(env: str | None):
    from runtime.change_control.service import ChangeControl
    return ChangeControl(engine_for(env))


@changes.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also the settled ones (deployed, rejected, refused).")
@env_option
@handle_errors
def changes_list(show_all: bool, env: str | None) -> None:
    """The waiting change requests (with --all: every one), oldest first."""
    rows = _control(env).requests.listing(None if show_all else ["waiting"])
    if not rows:
        click.echo("no change requests" if show_all else "no change request is waiting")
        return
    for r in rows:
        done = f" → v{r.version}" if r.version else ""
        checker = f", checker {r.checker}" if r.checker else ""
        click.echo(f"#{r.id:<4} {when(r.created_at)}  {r.status:8} {r.action:8} {r.hash[:12]}{done}  "
                   f"maker {r.maker}{checker}  {r.message}")
        if r.reason:
            click.echo(f"      {r.reason}")


@changes.command("show")
@click.argument("request_id", type=int)
@env_option
@handle_errors
def changes_show(request_id: int, env: str | None) -> None:
    """A change request: its status, the plan against the live version, and the diff of the files."""
    from runtime.deploy.plan import files_diff
    control = _control(env)
    req = control.requests.get(request_id, with_release=True)
    click.echo(f"change request #{req.id}: {req.action} of bundle {req.hash[:12]} to `{req.environment}` by "
               f"{req.maker}, planned against v{req.from_version} — {req.status}"
               + (f" (checker {req.checker})" if req.checker else "") + (f"; v{req.version}" if req.version else ""))
    if req.reason:
        click.echo(f"  {req.reason}")
    release = req.release
    print_plan(control.registry.plan(release))
    live = control.registry.current()
    click.echo(files_diff(live.release.files if live else {}, release.files, limit=10**9), nl=False)


@changes.command("apply")
@click.argument("request_ids", type=int, nargs=-1)
@env_option
@handle_errors
def changes_apply(request_ids: tuple, env: str | None) -> None:
    """Deploy the approved change requests now (what the worker does every few seconds) and close
    the rejected ones; the waiting ones stay. Exit 1 when one was refused."""
    done = _control(env).settle(request_ids or None, on_step=lambda m: click.echo(f"  … {m}"))
    if not done:
        click.echo("nothing approved or rejected is waiting")
    for d in done:
        if d["status"] == "deployed":
            click.secho(f"✓ #{d['request']}: deployed v{d['version']} ({d['hash'][:12]}), maker {d['maker']}, "
                        f"checker {d['checker']}", fg="green")
        else:
            click.secho(f"✗ #{d['request']}: {d['status']}: {d['reason']}", fg="red" if d["status"] == "refused"
                        else "yellow")
    sys.exit(1 if any(d["status"] == "refused" for d in done) else 0)


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
