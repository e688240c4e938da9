"""`banyan users …`: create people who sign in, list them, disable or enable them, reset a
password, grant or revoke a role in an org unit, make an API token (read-only or read-write,
with an expiry), lift a sign-in lockout (`unlock`), end every session of someone (`sign-out`);
name a deputy while away (`deputy`), hand a departing person's clients and open tasks to another
(`hand-over`).

Passwords are never arguments (they would land in the shell history): they are asked for twice
with a hidden prompt, or read from the first line of stdin with `--password-stdin`. The first
administrator is `banyan users create NAME --admin`; there is no built-in account.
"""
from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from dsl.bank_time import bank_today
from runtime.auth.deputies import cancel_deputy, periods
from runtime.auth.org import OrgTree
from runtime.auth.users import NAME, User, UserError, UserStore
from runtime.cli.common import EXIT_PROBLEMS, engine_for, env_option, fail, fail_error, handle_errors
from runtime.cli.main import main
from runtime.deploy.live import load_live
from runtime.flows.service import FlowService
from runtime.people.away import go_away
from runtime.people.hand_over import HandOverError, hand_over
from runtime.storage.migrate import upgrade

password_stdin_option = click.option(
    "--password-stdin", is_flag=True,
    help="Read the password from the first line of stdin (for scripts) instead of asking twice.")


def _services(env: str | None) -> tuple[UserStore, OrgTree]:
    engine = engine_for(env)
    upgrade(engine)
    return UserStore(engine), OrgTree(load_live(engine).bundle)


def _interactive() -> bool:
    return sys.stdin.isatty()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        text = sys.stdin.readline().rstrip("\r\n")
        if not text:
            fail("--password-stdin: stdin held no password (give it on the first line)")
        return text
    if not _interactive():
        fail("no terminal to ask for the password: pipe it in with --password-stdin")
    return click.prompt("password", hide_input=True, confirmation_prompt="repeat the password")


def _user(store: UserStore, name: str) -> User:
    user = store.get(name)
    if user is None:
        fail(f"no user `{name}` (see `banyan users list`)")
    return user


def _check_role(tree: OrgTree, role: str) -> None:
    if role not in tree.roles:
        fail(f"no role `{role}` is deployed; deployed roles: {', '.join(sorted(tree.roles)) or 'none'}")


def _check_unit(tree: OrgTree, unit: str) -> None:
    if unit not in tree.units:
        fail(f"no org unit `{unit}`; org units: {', '.join(name for name, _ in tree.ordered()) or 'none'}")


def _where(tree: OrgTree, role: str, unit: str | None, user_unit: str) -> str:
    """Where `role` is held: "" for a bank-wide role, else `unit` (default: the person's unit)."""
    _check_role(tree, role)
    if tree.roles[role].scope == "global":
        if unit:
            fail(f"`{role}` is a bank-wide role: it is held in no org unit (leave out the unit)")
        return ""
    unit = unit or user_unit
    _check_unit(tree, unit)
    return unit


def _problems(exc: UserError) -> None:
    fail("; ".join(f"{field}: {message}" for field, message in exc.problems))


@main.group()
def users() -> None:
    """People who sign in: create, list, disable, reset a password, grant or revoke roles."""


@users.command("create")
@click.argument("name")
@click.option("--display-name", default=None, help="The name shown (e.g. 陈思远; default NAME).")
@click.option("--unit", "org_unit", default=None,
              help="Their org unit (an OrgUnit name, e.g. sh_branch); an admin defaults to the top of the tree.")
@click.option("--role", "roles", multiple=True, metavar="ROLE[@UNIT]", help="A role held (in UNIT; default their unit).")
@click.option("--email", default=None)
@click.option("--admin", is_flag=True, help="Administrator: every permission, the whole bank.")
@password_stdin_option
@env_option
@handle_errors
def create(name: str, display_name: str | None, org_unit: str | None, roles: tuple[str, ...], email: str | None,
           admin: bool, password_stdin: bool, env: str | None) -> None:
    """Create NAME, who signs in with a password the policy accepts (12 characters, 3 kinds)."""
    if not NAME.match(name):
        fail(f"`{name}`: 2–100 characters, lower-case letters, digits, _ . -, starting with a letter")
    store, tree = _services(env)
    if org_unit is None:
        tops = sorted(n for n, u in tree.units.items() if not u.parent)
        if not admin or len(tops) != 1:
            fail("give their org unit with --unit (e.g. --unit " + (tops[0] if tops else "head_office") + ")")
        org_unit = tops[0]
    _check_unit(tree, org_unit)
    held = []
    for spec in roles:
        role, _, unit = spec.partition("@")
        held.append((role, _where(tree, role, unit or None, org_unit)))
    if store.get(name) is not None:
        fail(f"`{name}` is already taken (see `banyan users list`)")
    try:
        store.save(name, display_name=display_name or name, org_unit=org_unit, email=email,
                   password=_password(password_stdin), is_admin=admin, roles=held, tree=tree, new=True)
    except UserError as exc:
        _problems(exc)
    click.secho(f"✓ created {name}" + (" (administrator)" if admin else "") + f" in {org_unit}", fg="green")


@users.command("list")
@env_option
@handle_errors
def list_users(env: str | None) -> None:
    """Everyone who can sign in (or could), with their unit and roles."""
    store, _tree = _services(env)
    people = store.list()
    if not people:
        click.echo("no users yet: create the first administrator with `banyan users create NAME --admin`")
        return
    locked = store.locked_until()
    table = Table(box=None, pad_edge=False)
    for column in ("name", "display name", "org unit", "roles", ""):
        table.add_column(column)
    for u in people:
        roles = ", ".join(r + (f"@{unit}" if unit else "") for r, unit in u.roles)
        flags = " ".join(f for f, on in (("admin", u.is_admin), ("disabled", not u.active), ("totp", u.totp),
                                          ("locked", u.name in locked)) if on)
        table.add_row(u.name, u.display_name, u.org_unit, roles, flags)
    console = Console(width=200, highlight=False, color_system=None)
    with console.capture() as out:
        console.print(table)
    click.echo("\n".join(line.rstrip() for line in out.get().splitlines()))


@users.command("disable")
@click.argument("name")
@env_option
@handle_errors
def disable(name: str, env: str | None) -> None:
    """Stop NAME signing in: their sessions end and their API tokens stop working."""
    store, _tree = _services(env)
    _user(store, name)
    store.set_active(name, False)
    click.secho(f"✓ {name} is disabled", fg="green")


@users.command("enable")
@click.argument("name")
@env_option
@handle_errors
def enable(name: str, env: str | None) -> None:
    """Let a disabled NAME sign in again."""
    store, _tree = _services(env)
    _user(store, name)
    store.set_active(name, True)
    click.secho(f"✓ {name} is enabled", fg="green")


@users.command("reset-password")
@click.argument("name")
@password_stdin_option
@env_option
@handle_errors
def reset_password(name: str, password_stdin: bool, env: str | None) -> None:
    """Set NAME's password (the policy applies); their sessions end and their API tokens are revoked."""
    store, _tree = _services(env)
    _user(store, name)
    try:
        store.set_password(name, _password(password_stdin))
    except UserError as exc:
        _problems(exc)
    click.secho(f"✓ password of {name} changed; their sessions have ended and their API tokens are revoked",
                fg="green")


@users.command("grant")
@click.argument("name")
@click.argument("role")
@click.option("--unit", default=None, help="The org unit where the role is held (default: the person's unit).")
@env_option
@handle_errors
def grant(name: str, role: str, unit: str | None, env: str | None) -> None:
    """Let NAME hold ROLE in an org unit (a bank-wide role in none)."""
    store, tree = _services(env)
    where = _where(tree, role, unit, _user(store, name).org_unit)
    try:
        made = store.grant_role(name, role, where, tree)
    except UserError as exc:
        _problems(exc)
    at = f" in {where}" if where else " (bank-wide)"
    click.secho(f"✓ {name} holds {role}{at}" if made else f"{name} already held {role}{at}",
                fg="green" if made else None)


@users.command("revoke")
@click.argument("name")
@click.argument("role")
@click.option("--unit", default=None, help="The org unit where the role is held (default: the person's unit).")
@env_option
@handle_errors
def revoke(name: str, role: str, unit: str | None, env: str | None) -> None:
    """Stop NAME holding ROLE in an org unit."""
    store, tree = _services(env)
    user = _user(store, name)
    where = _where(tree, role, unit, user.org_unit)
    if not store.revoke_role(name, role, where):
        held = ", ".join(r + (f"@{u}" if u else "") for r, u in user.roles) or "no roles"
        fail(f"{name} does not hold {role}" + (f" in {where}" if where else "") + f" (they hold {held})")
    click.secho(f"✓ {name} no longer holds {role}" + (f" in {where}" if where else ""), fg="green")


@users.command("token")
@click.argument("name")
@click.option("--label", default="script", show_default=True)
@click.option("--scope", type=click.Choice(["read", "write"]), default="write", show_default=True,
              help="read: GET only; write: read and write (what NAME may do).")
@click.option("--days", type=int, default=None, help="Days until it expires (default: the policy's token_days, 90).")
@env_option
@handle_errors
def token(name: str, label: str, scope: str, days: int | None, env: str | None) -> None:
    """Make an API token for NAME (printed once; send it as `Authorization: Bearer …`). It expires,
    and a change of NAME's password revokes it."""
    store, _tree = _services(env)
    if not _user(store, name).active:
        fail(f"{name} is disabled; enable them first (`banyan users enable {name}`)")
    try:
        click.echo(store.create_token(name, label, scope=scope, days=days))
    except UserError as exc:
        _problems(exc)


@users.command("unlock")
@click.argument("name")
@env_option
@handle_errors
def unlock(name: str, env: str | None) -> None:
    """Lift NAME's sign-in lockout (after too many failed sign-ins) and start their count afresh."""
    store, _tree = _services(env)
    _user(store, name)
    if store.unlock(name):
        click.secho(f"✓ {name} is unlocked", fg="green")
    else:
        click.echo(f"{name} was not locked")


@users.command("sign-out")
@click.argument("name")
@env_option
@handle_errors
def sign_out_everywhere(name: str, env: str | None) -> None:
    """End every session of NAME, on every device (their API tokens stay; revoke them on their page)."""
    store, _tree = _services(env)
    _user(store, name)
    n = store.sign_out_everywhere(name)
    click.secho(f"✓ {n} session(s) of {name} ended", fg="green")


@users.command("deputy")
@click.argument("name")
@click.option("--to", "deputy", default=None, help="Who takes NAME's new tasks while NAME is away.")
@click.option("--from", "starts", default=None, metavar="DATE", help="First day away (YYYY-MM-DD; default today).")
@click.option("--until", "ends", default=None, metavar="DATE", help="Last day away (YYYY-MM-DD, included).")
@click.option("--reason", default=None, help="Why (shown with the period; optional).")
@click.option("--open-tasks", is_flag=True, help="Hand NAME's tasks already open to the deputy too.")
@click.option("--cancel", "cancel_id", type=int, default=None, metavar="ID", help="Cancel NAME's period ID.")
@env_option
@handle_errors
def deputy(name: str, deputy: str | None, starts: str | None, ends: str | None, reason: str | None,
           open_tasks: bool, cancel_id: int | None, env: str | None) -> None:
    """Out of office (代理): NAME names a deputy from a day until a day; new tasks for NAME go to
    the deputy, on NAME's behalf. Without --to: NAME's periods; --cancel ID ends one."""
    store, _tree = _services(env)
    today = bank_today()
    if cancel_id is not None:
        gone = cancel_deputy(store.engine, name, cancel_id)
        click.secho(f"✓ cancelled: {gone.deputy} for {name}, {gone.starts} until {gone.ends}", fg="green")
        return
    if deputy is None:
        if starts or ends or reason or open_tasks:
            fail("name the deputy with --to (and the last day with --until)")
        found = periods(store.engine, name, today=today)
        if not found:
            click.echo(f"{name} has no deputy from today on")
        for p in found:
            click.echo(f"#{p.id}  {p.deputy}  {p.starts} – {p.ends}" + (f"  ({p.reason})" if p.reason else ""))
        return
    if ends is None:
        fail("give the last day away with --until YYYY-MM-DD")
    away = go_away(FlowService(store.engine), name, deputy, starts or today.isoformat(), ends, today=today,
                   reason=reason, with_open_tasks=open_tasks)
    p = away.period
    click.secho(f"✓ {p.deputy} stands in for {name} from {p.starts} until {p.ends} (period #{p.id})", fg="green")
    for t in away.moved:
        click.echo(f"  handed over: task {t['task']} ({t['flow']} · {t['node']})")
    for t in away.kept:
        click.echo(f"  stays with {name}: task {t['task']} ({t['flow']} · {t['node']}): {t['why']}")


@users.command("hand-over")
@click.argument("from_user", metavar="FROM")
@click.argument("to_user", metavar="TO")
@click.option("--as", "admin", default=None, metavar="ADMIN",
              help="The administrator who does it (holds users.admin); default the operator.")
@click.option("--reason", default=None, help="Why (default 客户移交), in each task's comment.")
@click.option("--dry-run", is_flag=True, help="Show what would move; change nothing.")
@env_option
@handle_errors
def hand_over_cmd(from_user: str, to_user: str, admin: str | None, reason: str | None, dry_run: bool,
                  env: str | None) -> None:
    """客户移交: FROM's clients (relationship manager of groups and companies) and open tasks go
    to TO in one audited transaction — all of it, or nothing."""
    store, _tree = _services(env)
    if admin is not None and not _user(store, admin).can("users.admin"):
        fail(f"{admin} may not manage users (users.admin), so cannot hand over")
    try:
        done = hand_over(FlowService(store.engine), from_user, to_user, by=admin, dry_run=dry_run, reason=reason)
    except HandOverError as exc:        # refused by the data (exit 1), each task's reason listed
        fail_error(exc, EXIT_PROBLEMS if exc.problems else None)
    verb = "would move" if dry_run else "moved"
    for r in done.records:
        click.echo(f"  {r['entity']} {r['key'] or '#' + str(r['id'])}: {r['field']} {from_user} → {to_user}")
    for t in done.tasks:
        click.echo(f"  task {t['task']} ({t['flow']} · {t['node']}) → {to_user}")
    for t in done.kept:
        click.echo(f"  stays: task {t['task']} ({t['flow']} · {t['node']}): {t['why']}")
    for p in done.problems:
        click.secho(f"  cannot move: task {p['task']} ({p['flow']} · {p['node']}): {p['message']}", fg="red")
    summary = f"{verb} {len(done.records)} client record(s) and {len(done.tasks)} open task(s) to {to_user}"
    if done.problems:
        fail(f"{summary}, but {len(done.problems)} task(s) cannot move: the hand-over would change nothing",
             EXIT_PROBLEMS)
    click.secho(("· " if dry_run else "✓ ") + summary + (" (dry run: nothing changed)" if dry_run else ""),
                fg="yellow" if dry_run else "green")
