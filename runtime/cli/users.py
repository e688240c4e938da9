"""`banyan users …`: add, list, set a password, make an API token, load the demo people."""
from __future__ import annotations

import sys

import click

from runtime.cli.main import main
from runtime.cli.common import engine_for, env_option, fail, handle_errors


def _services(env: str | None):
    from runtime.auth.org import OrgTree
    from runtime.auth.users import UserStore
    from runtime.deploy.live import load_live
    from runtime.storage.migrate import upgrade
    engine = engine_for(env)
    upgrade(engine)
    return UserStore(engine), OrgTree(load_live(engine).bundle)


def _password(prompt: bool) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("password", hide_input=True, confirmation_prompt=prompt)


@main.group()
def users() -> None:
    """People who sign in: users, their roles, API tokens."""


@users.command("add")
@click.argument("name")
@click.option("--display-name", required=True, help="The person's name as shown (e.g. 陈思远).")
@click.option("--unit", "org_unit", required=True, help="Their org unit (an OrgUnit name, e.g. sh_branch).")
@click.option("--role", "roles", multiple=True, metavar="ROLE[@UNIT]", help="A role held (in UNIT; default their unit).")
@click.option("--email", default=None)
@click.option("--admin", is_flag=True, help="Administrator: every permission, the whole bank.")
@env_option
@handle_errors
def add(name: str, display_name: str, org_unit: str, roles: tuple[str, ...], email: str | None, admin: bool,
        env: str | None) -> None:
    """Add a user; the password is read from stdin (or asked for)."""
    from runtime.auth.users import UserError
    store, tree = _services(env)
    held = []
    for spec in roles:
        role, _, unit = spec.partition("@")
        scope = tree.roles[role].scope if role in tree.roles else "org_unit"
        held.append((role, "" if scope == "global" else (unit or org_unit)))
    try:
        store.save(name, display_name=display_name, org_unit=org_unit, email=email, password=_password(True),
                   is_admin=admin, roles=held, tree=tree, new=True)
    except UserError as exc:
        fail("; ".join(f"{f}: {m}" for f, m in exc.problems))
    click.secho(f"✓ added {name}", fg="green")


@users.command("list")
@env_option
@handle_errors
def list_users(env: str | None) -> None:
    """Everyone who can sign in, with their unit and roles."""
    store, _tree = _services(env)
    for u in store.list():
        roles = ", ".join(r + (f"@{unit}" if unit else "") for r, unit in u.roles)
        flags = (" admin" if u.is_admin else "") + ("" if u.active else " inactive")
        click.echo(f"{u.name:<16} {u.display_name:<10} {u.org_unit:<28} {roles}{flags}")


@users.command("passwd")
@click.argument("name")
@env_option
@handle_errors
def passwd(name: str, env: str | None) -> None:
    """Set a user's password (read from stdin, or asked for); their sessions end."""
    from runtime.auth.users import UserError
    store, _tree = _services(env)
    try:
        store.set_password(name, _password(True))
    except UserError as exc:
        fail("; ".join(m for _f, m in exc.problems))
    click.secho(f"✓ password of {name} changed", fg="green")


@users.command("token")
@click.argument("name")
@click.option("--label", default="script", show_default=True)
@env_option
@handle_errors
def token(name: str, label: str, env: str | None) -> None:
    """Make an API token for NAME (printed once; send it as `Authorization: Bearer …`)."""
    store, _tree = _services(env)
    if store.get(name) is None:
        fail(f"no user `{name}`")
    click.echo(store.create_token(name, label))


@users.command("seed-demo")
@env_option
@handle_errors
def seed_demo(env: str | None) -> None:
    """Create the demo people (password `banyan-demo-2026`) and role permissions."""
    from runtime.auth.demo import DEMO_PASSWORD, seed_demo_users
    store, tree = _services(env)
    made = seed_demo_users(store, tree)
    click.secho(f"✓ {len(made)} demo user(s): {', '.join(made) or 'all existed'} — password {DEMO_PASSWORD}",
                fg="green")
