"""Loading a demo (the demo bank of examples/demo_bank) through the records service, in one
transaction, and the warning `banyan serve` gives while the demo people can sign in.

The runtime never imports examples/: a demo is found through the `banyan.demo` entry point
that its package registers (examples/pyproject.toml: `bank = "examples.demo_bank.plugin:DEMO"`).
A demo object has `generate(scale=, seed=, transactions=)` (an object whose `.records` maps an
entity to its rows), `entity_order`, `seed_users(UserStore, OrgTree)`, `user_names` and
`password`; a bank's `users` ({code, name, branch}: the staff its records name) go into the people
directory without roles or sign-in, so pages show their names. References to entities that come
later in the load order (a group's parent company) are left empty at first and set once their
targets exist, still inside the transaction.
A demo whose bank has a `history` (`start`, `initial`, `steps`: examples/demo_bank/history.py) is
loaded as it stood at the start, with the audit clock at that moment, then each step is written
through the records service with the clock at its own moment, oldest first — the past a backtest
reads back from the audit log (runtime/records/history.py).
"""
from __future__ import annotations

import logging
import threading
from contextlib import nullcontext
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Callable

import click
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dsl.errors import BanyanError
from runtime.audit import log as audit
from runtime.auth.org import OrgTree
from runtime.auth.tables import people
from runtime.auth.users import UserStore
from runtime.flows.directory import put_people
from runtime.flows.service import FlowService
from runtime.records.errors import RecordError
from runtime.records.service import Records
from runtime.records.store import keys_to_ids
from runtime.storage.db import writing

ProgressHook = Callable[[str, int, int], None]   # (entity, done, total)
DEMO_GROUP = "banyan.demo"
DEMO_NEEDS = ("generate", "entity_order", "seed_users", "user_names", "password")
DEMO_CHECK_THREAD = "banyan-demo-users-check"
INSTALL_HINT = "from a Banyan checkout run `make venv` (or `pip install -e ./examples`)"
log = logging.getLogger("banyan.serve")


class SeedError(BanyanError):
    code, status, namespace = "seed_failed", 422, "cli"


def installed_demos() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=DEMO_GROUP)}


def load_demo(name: str | None = None) -> Any:
    """The demo registered as `name` under `banyan.demo` (None: the only one installed)."""
    found = installed_demos()
    if not found:
        raise SeedError(f"no demo is installed (nothing registers the `{DEMO_GROUP}` entry point); {INSTALL_HINT}")
    if name is None:
        if len(found) > 1:
            raise SeedError(f"several demos are installed ({', '.join(sorted(found))}); choose one with --demo NAME")
        name = next(iter(found))
    if name not in found:
        raise SeedError(f"no demo `{name}` is installed; installed: {', '.join(sorted(found))}")
    try:
        demo = found[name].load()
    except Exception:  # noqa: BLE001 - a broken plugin is an installation problem, said plainly
        raise SeedError(f"the demo `{name}` ({found[name].value}) cannot be loaded; reinstall it: {INSTALL_HINT}") \
            from None
    lacking = [a for a in DEMO_NEEDS if not hasattr(demo, a)]
    if lacking:
        raise SeedError(f"the demo `{name}` ({found[name].value}) lacks {', '.join(lacking)}")
    return demo


def seed_demo(records: Records, *, scale: float = 1.0, seed: int = 42, transactions: int | None = None,
              actor: str = "seed", on_progress: ProgressHook | None = None, bank: Any = None,
              demo: Any = None) -> dict[str, int]:
    """Generate the demo (`bank`: one made already) and load it; returns the count per entity."""
    demo = demo or load_demo()
    order = tuple(demo.entity_order)
    live = records.live
    missing = [e for e in order if e not in live.bundle.entities]
    if missing:
        raise SeedError(f"the deployed bundle lacks entities the demo bank needs: {', '.join(missing)}; "
                        "deploy configs/ first")
    with records.engine.connect() as conn:
        held = [e for e in order if conn.execute(sa.select(1).select_from(live.table(e)).limit(1)).first()]
    if held:
        raise SeedError(f"the database already holds {', '.join(held)} records; seed an empty database "
                        "(set BANYAN_DATABASE_URL or --env)")
    bank = bank or demo.generate(scale=scale, seed=seed, transactions=transactions)
    history = getattr(bank, "history", None)
    with writing(records.engine) as conn:
        with audit.written_at(history.start) if history is not None else nullcontext():
            counts = _load(records, conn, bank, order, actor, on_progress, getattr(history, "initial", {}))
            _staff(conn, bank, demo)
        for at, entity, changes in getattr(history, "steps", ()):
            with audit.written_at(at):
                ids = keys_to_ids(conn, live, entity, [k for k, _ in changes])
                records.bulk_update(entity, [(ids[k], v) for k, v in changes], actor=actor, conn=conn)
    return counts


def _staff(conn: Any, bank: Any, demo: Any) -> int:
    """The demo bank's staff (`bank.users`: the relationship managers its records name) in the people
    directory, so pages show their names, not their user names: without roles (no task finds them)
    and without sign-in. Those already there and the demo's sign-in people (`seed_users` makes
    them) are left alone; returns how many were added."""
    staff = {u["code"]: u for u in getattr(bank, "users", ()) or () if u.get("code")}
    for name in getattr(demo, "user_names", ()):
        staff.pop(name, None)
    if not staff:
        return 0
    present = set(conn.execute(sa.select(people.c.name).where(people.c.name.in_(sorted(staff)))).scalars())
    rows = [{"name": code, "display_name": u.get("name") or None, "org_unit": u.get("branch")}
            for code, u in sorted(staff.items()) if code not in present]
    put_people(conn, rows)
    return len(rows)


def _load(records: Records, conn: Any, bank: Any, order: tuple[str, ...], actor: str,
          on_progress: ProgressHook | None, initial: dict[str, dict[Any, dict]]) -> dict[str, int]:
    """Create the demo's records (as they stood at its history's start, `initial`: entity → key →
    the fields that differed then), references to entities loaded later set at the end; the count
    per entity."""
    live = records.live
    counts: dict[str, int] = {}
    loaded: set[str] = set()
    deferred: list[tuple[str, Any, dict]] = []
    for entity in order:
        rules = records.rules(entity)
        later = {f for f, target in rules.refs.items() if target not in loaded and target != entity}
        key = live.entity(entity).key
        then = initial.get(entity, {})
        rows = []
        for rec in bank.records[entity]:
            if rec.get(key) in then:
                rec = {**rec, **then[rec[key]]}
            held = {f: rec[f] for f in later if rec.get(f) is not None}
            if held:
                deferred.append((entity, rec[key], held))
                rec = {k: v for k, v in rec.items() if k not in held}
            rows.append(rec)
        total = len(rows)

        def progress(done: int, entity: str = entity, total: int = total) -> None:
            if on_progress:
                on_progress(entity, done, total)
        try:
            counts[entity] = records.bulk_create(entity, rows, actor=actor, conn=conn, on_progress=progress)
        except RecordError as exc:
            raise SeedError(f"the demo {entity} records do not pass the deployed rules: {exc.message}") from exc
        loaded.add(entity)
    for entity in order:
        later = [(key, values) for e, key, values in deferred if e == entity]
        if later:
            ids = keys_to_ids(conn, live, entity, [k for k, _ in later])
            records.bulk_update(entity, [(ids[k], v) for k, v in later], actor=actor, conn=conn)
    return counts


def seed_demo_users(engine: Engine, bundle: Any, demo: Any = None) -> list[str]:
    """Create the demo's people that do not exist yet; returns who was made."""
    demo = demo or load_demo()
    return list(demo.seed_users(UserStore(engine), OrgTree(bundle)))


def seed_demo_applications(engine: Engine, demo: Any = None) -> list[dict]:
    """Start the demo's applications and take their steps (`demo.applications`), through the flow
    service like any request; returns each one's instance view. Steps name who acts, the action,
    the fields they fill and their opinion; the acting person's open task is found as the CLI
    finds it."""
    demo = demo or load_demo()
    flows = FlowService(engine)
    views = []
    for app in getattr(demo, "applications", ()):
        try:
            view = flows.start(app["flow"], actor=app["initiator"], subject=app.get("subject"), form=app["form"])
            for actor, action, fields, opinion in app.get("steps", ()):
                mine = [t["id"] for t in view["tasks"] if t["assignee"] == actor or actor in t["candidates"]]
                if len(mine) != 1:
                    raise SeedError(f"the demo application on {app.get('subject')} expected one open task for "
                                    f"{actor} at {', '.join(view['current_nodes'])}, found {len(mine)}")
                view = flows.act(view["id"], action, actor=actor, task=mine[0], fields=fields or None,
                                 comment=opinion)
        except BanyanError as exc:
            raise SeedError(f"a demo application on {app.get('subject')} cannot run on the deployed flows: "
                            f"{exc.message}") from exc
        views.append(view)
    return views


def demo_sign_ins(engine: Engine) -> list[str]:
    """The installed demos' people who can still sign in with their demo's published password."""
    open_doors: list[str] = []
    store = UserStore(engine)
    present = {u.name for u in store.list() if u.active}
    for name in sorted(installed_demos()):
        try:
            demo = load_demo(name)
        except SeedError:
            continue
        open_doors += [u for u in demo.user_names if u in present and store.has_password(u, demo.password)]
    return open_doors


def check_demo_users(engine: Engine) -> list[str]:
    """Say loudly (stderr and the log) who still signs in with a demo password; returns them."""
    try:
        names = demo_sign_ins(engine)
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return []                      # no users table yet: nobody can sign in at all
    if names:
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        line = (f"DEMO USERS CAN SIGN IN with the published demo password: {shown}. Anyone who has read the "
                "README can sign in as them. Not for real data: disable them (`banyan users disable NAME`) or "
                "set new passwords (`banyan users reset-password NAME`).")
        bar = "!" * 78
        click.secho(f"{bar}\n{line}\n{bar}", fg="red", bold=True, err=True)
        log.warning("banyan serve: %d demo user(s) sign in with the published demo password: %s",
                    len(names), ", ".join(names))
    return names


def warn_demo_users(engine: Engine) -> threading.Thread:
    """At every `banyan serve`: check_demo_users beside the starting server (each check is an
    argon2 hash, a fraction of a second per demo person, so it does not hold up the start)."""
    thread = threading.Thread(target=check_demo_users, args=(engine,), name=DEMO_CHECK_THREAD, daemon=True)
    thread.start()
    return thread


def ensure_deployed(engine: Engine, path: str, author: str) -> int | None:
    """Deploy `path` when nothing is deployed yet; returns the new version (None if one existed)."""
    from dsl.compiler import compile_path
    from runtime.deploy.deployments import DeploymentRegistry
    from runtime.deploy.releases import release_of
    reg = DeploymentRegistry(engine)
    if reg.current() is not None:
        return None
    result = compile_path(path)
    if not result.ok:
        raise SeedError(f"{path} does not compile; run `banyan validate {path}`")
    return reg.deploy(release_of(result.bundle), author=author, message="deployed by `banyan seed demo`").version
