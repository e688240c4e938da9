"""Due work under leases: one table (`banyan_due`) of things to do at a time, claimed by any number
of workers, each thing run once.

`schedule(conn, kind, key, due_at, payload)` puts (or moves) the one item of `kind` named `key`,
in the caller's transaction; `cancel` takes it back. `handle(kind, fn)` registers what runs it;
`run_once(engine, worker)` claims what is due and runs it. `claim_due`/`done`/`failed` are the
same steps for callers that drive the work themselves.

Claiming (`claim`, shared with the feed's cursors and the outbox): on PostgreSQL the due rows are
read `FOR UPDATE SKIP LOCKED`, so workers never wait on each other's rows; on SQLite a conditional
UPDATE under the write lock. A claim is a lease (`claimed_by`, `claimed_until`): a crashed
worker's items come back when it runs out. A transactional handler `fn(conn, item)` runs in the
transaction that deletes the item (only while this worker still holds it), so its database
effects happen exactly once; a handler that calls out (`transactional=False`, `fn(engine, item)`)
runs at least once. Every claim counts an attempt; a failure keeps its error and is retried after
a back-off (30 s, doubling, at most an hour) until `max_attempts`, after which the item stays,
unclaimed, with its error (`pending()` shows it) until it is scheduled again."""
from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from runtime.jobs.tables import db_now, db_time, due
from runtime.storage.db import writing

log = logging.getLogger("banyan.jobs.due")
LEASE = timedelta(minutes=5)


def lease_time(default: timedelta) -> timedelta:
    """How long a claim holds before another worker may take the work over: `default`, or
    `BANYAN_LEASE_SECONDS` when set (a crashed worker's change feed and mail are taken over that
    much sooner; the crash tests use a few seconds). A value that is not a positive number is
    ignored."""
    text = os.environ.get("BANYAN_LEASE_SECONDS", "").strip()
    try:
        seconds = float(text)
    except ValueError:
        return default
    return timedelta(seconds=seconds) if seconds > 0 else default
MAX_ATTEMPTS = 10


@dataclass(frozen=True, slots=True)
class DueItem:
    id: int
    kind: str
    key: str
    due_at: datetime
    payload: dict
    attempts: int           # claims so far, this one included
    claimed_by: str


@dataclass(frozen=True)
class DueHandler:
    kind: str
    fn: Callable[[Any, DueItem], Any]
    transactional: bool
    lease: timedelta
    max_attempts: int
    batch: int


_handlers: dict[str, DueHandler] = {}


def handle(kind: str, fn: Callable[[Any, DueItem], Any], *, transactional: bool = True,
           lease: timedelta = LEASE, max_attempts: int = MAX_ATTEMPTS, batch: int = 100) -> DueHandler:
    """Register what runs the due items of `kind`: `fn(conn, item)` inside the item's transaction,
    or with `transactional=False` `fn(engine, item)` outside it (for calls to the outside world)."""
    if not kind or len(kind) > 64:
        raise ValueError("a due-work kind needs a name of 1 to 64 characters")
    found = _handlers[kind] = DueHandler(kind, fn, transactional, lease, max_attempts, batch)
    return found


def handlers() -> dict[str, DueHandler]:
    return dict(_handlers)


def schedule(conn: Connection, kind: str, key: str, due_at: datetime, payload: Mapping[str, Any] | None = None) -> None:
    """Have `kind`'s handler run for `key` at `due_at` (scheduling the same kind and key again moves
    it and starts its attempts afresh). Part of the caller's transaction."""
    _upsert(conn, kind, key, due_at, payload, only_if_changed=False)


def ensure(conn: Connection, kind: str, key: str, due_at: datetime, payload: Mapping[str, Any] | None = None) -> None:
    """`schedule`, unless `kind`'s item `key` is already waiting with the same payload (a periodic
    check that keeps one item per schedule: its time is not moved, nor its attempts reset); an item
    with another payload (the schedule was redeployed) is moved, unless a worker holds it."""
    _upsert(conn, kind, key, due_at, payload, only_if_changed=True)


def _upsert(conn: Connection, kind: str, key: str, due_at: datetime, payload: Mapping[str, Any] | None, *,
            only_if_changed: bool) -> None:
    if not key or len(str(key)) > 200:
        raise ValueError(f"a due item of `{kind}` needs a key of 1 to 200 characters")
    values = {"kind": kind, "key": str(key), "due_at": db_time(due_at), "payload": _json(payload or {}),
              "attempts": 0, "last_error": None, "claimed_by": None, "claimed_until": None}
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(due)
    again = {k: insert.excluded[k] for k in values if k not in ("kind", "key")}
    where = sa.and_(due.c.payload != insert.excluded.payload, due.c.claimed_by.is_(None)) if only_if_changed else None
    conn.execute(insert.values(**values, created_at=db_now())
                 .on_conflict_do_update(index_elements=["kind", "key"], set_=again, where=where))


def cancel(conn: Connection, kind: str, key: str) -> bool:
    """Take back `kind`'s item `key`; whether there was one."""
    return conn.execute(due.delete().where(due.c.kind == kind, due.c.key == str(key))).rowcount > 0


def claim(conn: Connection, table: sa.Table, conds: Iterable[Any], worker: str, now: datetime, lease: timedelta, *,
          limit: int, order_by: Iterable[Any] = (), values: Mapping[str, Any] | None = None) -> list:
    """Lease up to `limit` rows of `table` matching `conds` that no one holds (or whose lease ran
    out) to `worker` until `now + lease`; returns them as read. `table` needs a primary key,
    `claimed_by` and `claimed_until`."""
    now = db_time(now)
    free = sa.or_(table.c.claimed_until.is_(None), table.c.claimed_until < now)
    conds = [*conds, free]
    q = sa.select(table).where(*conds).order_by(*order_by).limit(limit)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    rows = conn.execute(q).all()
    if not rows:
        return []
    pk = list(table.primary_key.columns)
    which = (pk[0].in_([getattr(r, pk[0].name) for r in rows]) if len(pk) == 1
             else sa.or_(*(sa.and_(*(c == getattr(r, c.name) for c in pk)) for r in rows)))
    conn.execute(table.update().where(which, *conds)
                 .values(claimed_by=worker, claimed_until=now + lease, **(values or {})))
    return rows


def claim_due(engine: Engine, worker: str, kinds: Iterable[str], limit: int = 100, lease: timedelta = LEASE,
              now: datetime | None = None, max_attempts: int = MAX_ATTEMPTS) -> list[DueItem]:
    """Claim up to `limit` due items of `kinds`, earliest first, for `worker`."""
    now = db_time(now) if now is not None else db_now()
    with writing(engine) as conn:
        rows = claim(conn, due, [due.c.kind.in_(sorted(set(kinds))), due.c.due_at <= now,
                                 due.c.attempts < max_attempts],
                     worker, now, lease, limit=limit, order_by=[due.c.due_at, due.c.id],
                     values={"attempts": due.c.attempts + 1})
    return [DueItem(r.id, r.kind, r.key, r.due_at, json.loads(r.payload), r.attempts + 1, worker) for r in rows]


def done(conn: Connection, item: DueItem) -> bool:
    """Delete `item` while its claimer still holds it (an item scheduled again meanwhile stays)."""
    return conn.execute(due.delete().where(due.c.id == item.id, due.c.claimed_by == item.claimed_by)).rowcount == 1


def failed(engine: Engine, item: DueItem, error: str, max_attempts: int = MAX_ATTEMPTS) -> None:
    """Keep `error` and leave `item` for a retry after a back-off (none once its attempts are spent)."""
    wait = min(timedelta(seconds=30) * 2 ** min(item.attempts - 1, 10), timedelta(hours=1))
    with writing(engine) as conn:
        conn.execute(due.update().where(due.c.id == item.id, due.c.claimed_by == item.claimed_by).values(
            claimed_by=None, claimed_until=db_now() + wait, last_error=error[:2000]))
    if item.attempts >= max_attempts:
        log.error("due %s `%s` failed %s times and is given up (schedule it again to retry): %s",
                  item.kind, item.key, item.attempts, error)
    else:
        log.warning("due %s `%s` failed (attempt %s), retry in %s: %s", item.kind, item.key, item.attempts, wait, error)


def run_once(engine: Engine, worker: str, *, kinds: Iterable[str] | None = None, now: datetime | None = None) -> int:
    """Claim and run what is due for every registered kind (or `kinds`); returns how many ran."""
    wanted = set(kinds if kinds is not None else _handlers)
    unknown = sorted(wanted - set(_handlers))
    if unknown:
        raise ValueError(f"no due-work handler for {', '.join(unknown)}")
    at = db_time(now) if now is not None else db_now()
    with engine.connect() as conn:              # a read first: an idle poll writes nothing
        waiting = set(conn.execute(sa.select(due.c.kind).distinct().where(
            due.c.kind.in_(sorted(wanted)), due.c.due_at <= at,
            sa.or_(due.c.claimed_until.is_(None), due.c.claimed_until < at))).scalars())
    ran = 0
    for kind in sorted(waiting):
        h = _handlers[kind]
        for item in claim_due(engine, worker, [kind], h.batch, h.lease, now, h.max_attempts):
            ran += _run(engine, h, item)
    return ran


def _run(engine: Engine, h: DueHandler, item: DueItem) -> bool:
    try:
        if not h.transactional:
            h.fn(engine, item)
        with writing(engine) as conn:
            mine = sa.select(due.c.id).where(due.c.id == item.id, due.c.claimed_by == item.claimed_by)
            if conn.execute(mine.with_for_update() if conn.dialect.name == "postgresql" else mine).first() is None:
                log.warning("due %s `%s`: the lease ran out before it was done", item.kind, item.key)
                return False
            if h.transactional:
                h.fn(conn, item)
            done(conn, item)
        return True
    except Exception as exc:  # noqa: BLE001 - a handler's failure: keep it, retry later
        failed(engine, item, f"{type(exc).__name__}: {exc}", h.max_attempts)
        return False


def pending(engine: Engine, kind: str | None = None) -> list[dict]:
    """The items waiting (with attempts and last error), earliest first."""
    q = sa.select(due).order_by(due.c.due_at, due.c.id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q.where(due.c.kind == kind) if kind else q).mappings()]


def _json(payload: Mapping[str, Any]) -> str:
    def plain(v: Any) -> Any:
        if isinstance(v, (datetime, date)):
            return v.isoformat()
        if isinstance(v, Decimal):
            return str(v)
        raise TypeError(f"a due item's payload holds plain values, not {type(v).__name__}")
    return json.dumps(dict(payload), default=plain, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def keep_items(engine: Engine, kind: str, wanted: Mapping[str, tuple[datetime, Mapping[str, Any]]]) -> None:
    """Make the waiting items of `kind` exactly `wanted` ({key: (due at, payload)}): each one there
    at its time (a waiting one kept, one whose payload changed moved), and unclaimed items no
    longer wanted taken back — the schedules of deployed rules kept as due work. A check that
    finds everything in place writes nothing."""
    waiting = {i["key"]: i for i in pending(engine, kind)}
    stale = [k for k, i in waiting.items() if k not in wanted and not i["claimed_by"]]
    if not stale and all(k in waiting and json.loads(waiting[k]["payload"]) == p for k, (_, p) in wanted.items()):
        return
    with writing(engine) as conn:
        for key, (due_at, payload) in wanted.items():
            ensure(conn, kind, key, due_at, payload)
        for key in stale:
            cancel(conn, kind, key)
