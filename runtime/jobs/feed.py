"""Subscribers to the change feed: each sees every committed change once, in order, after commit.

`subscribe(name, handler, entities=None)` registers a handler `handler(conn, changes)`. A
subscriber's cursor (`banyan_feed_cursors`) holds how far it has read and a lease: any number of
workers may call `run_once(engine, worker)`, and one of them at a time holds a subscriber. The
handler runs in the transaction that also moves the cursor past the batch, so its database
effects happen exactly once; work outside the database (a mail) should go through the outbox.

A handler that raises leaves the cursor where it was: the batch is retried after a back-off
(30 s, doubling, at most an hour), the failures are counted and the last error kept, and from
`WARN_AFTER` failures on each one is logged as an error. A batch PostgreSQL undid because it ran
into another transaction (a deadlock, a serialization failure) has not failed: it runs again at the
next turn, uncounted. `status()` shows every subscriber's lag,
failures and error (the poison batch is never dropped silently); `skip(engine, name, seq)` is the
operator's way past an event that can never be handled."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from runtime.deploy.live import one_look
from runtime.jobs.changes import Change, last_seq, read
from runtime.jobs.leases import claim, lease_time
from runtime.jobs.tables import changes, db_now, db_time
from runtime.jobs.tables import feed_cursors as cursors
from runtime.storage.db import is_sqlite, lost_a_race, writing

log = logging.getLogger("banyan.jobs.feed")
LEASE = timedelta(minutes=5)
WARN_AFTER = 5
MAX_BATCHES = 20            # per subscriber and run: a long backlog is shared out between workers
SQLITE_GAP = 0.03           # seconds between two batches on SQLite, for the other writers

Handler = Callable[[Connection, Sequence[Change]], Any]


class LeaseLost(Exception):
    """The worker's lease ran out while it worked; its transaction is rolled back."""


@dataclass(frozen=True)
class Subscriber:
    name: str
    handler: Handler
    entities: frozenset[str] | None
    batch: int
    from_start: bool


_subscribers: dict[str, Subscriber] = {}


def subscribe(name: str, handler: Handler, entities: Iterable[str] | None = None, *, batch: int = 100,
              from_start: bool = True) -> Subscriber:
    """Register `handler` for the changes of `entities` (None: every entity). A subscriber seen for
    the first time starts at the first event kept (`from_start`) or at the newest one."""
    if not name or len(name) > 100:
        raise ValueError("a subscriber needs a name of 1 to 100 characters")
    if batch < 1:
        raise ValueError("a subscriber's batch holds at least one change")
    sub = Subscriber(name, handler, None if entities is None else frozenset(entities), batch, from_start)
    _subscribers[name] = sub
    return sub


def unsubscribe(name: str) -> None:
    _subscribers.pop(name, None)


def subscribers() -> dict[str, Subscriber]:
    return dict(_subscribers)


def run_once(engine: Engine, worker: str, *, names: Iterable[str] | None = None,
             now: datetime | None = None) -> int:
    """Hand every registered subscriber (or those `names`) the changes it has not seen; returns how
    many changes were handled. Subscribers another worker holds, or that wait to retry, are skipped."""
    names = None if names is None else list(names)
    unknown = sorted(set(names or ()) - set(_subscribers))
    if unknown:
        raise ValueError(f"no feed subscriber named {', '.join(unknown)}")
    subs = [_subscribers[n] for n in names] if names is not None else list(_subscribers.values())
    with engine.connect() as conn:              # a read first: an idle poll writes nothing
        top = last_seq(conn)
        read_to = dict(conn.execute(sa.select(cursors.c.subscriber, cursors.c.last_seq)).all())
    handled = 0
    for sub in subs:
        if read_to.get(sub.name, -1) >= top or not _claim(engine, sub, worker, now):
            continue
        try:
            for _ in range(MAX_BATCHES):
                done, more = _one_batch(engine, sub, worker)
                handled += done
                if not more:
                    break
                if is_sqlite(engine):
                    # SQLite's write lock is not handed over in turn: a writer waiting for it polls
                    # (every 100 ms once it has waited a while), and batches committed back to back
                    # would keep it out for the whole backlog — a sign-in timed out behind the 63,170
                    # changes of a freshly seeded bank. A short gap lets it in.
                    time.sleep(SQLITE_GAP)
        finally:
            _release(engine, sub.name, worker)
    return handled


def _claim(engine: Engine, sub: Subscriber, worker: str, now: datetime | None) -> bool:
    now = db_time(now) if now is not None else db_now()
    with writing(engine) as conn:
        if conn.execute(sa.select(cursors.c.subscriber).where(cursors.c.subscriber == sub.name)).first() is None:
            start = 0 if sub.from_start else last_seq(conn)
            _insert_cursor(conn, sub.name, start)
        ready = sa.or_(cursors.c.retry_at.is_(None), cursors.c.retry_at <= now)
        return bool(claim(conn, cursors, [cursors.c.subscriber == sub.name, ready], worker, now, lease_time(LEASE), limit=1))


def _insert_cursor(conn: Connection, name: str, start: int) -> None:
    values = {"subscriber": name, "last_seq": start, "attempts": 0, "updated_at": db_now()}
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(insert(cursors).values(**values).on_conflict_do_nothing(index_elements=["subscriber"]))


def _one_batch(engine: Engine, sub: Subscriber, worker: str) -> tuple[int, bool]:
    """Handle the next batch: (changes handled, whether more may be waiting)."""
    try:
        with one_look(), writing(engine) as conn:
            mine = sa.and_(cursors.c.subscriber == sub.name, cursors.c.claimed_by == worker)
            q = sa.select(cursors.c.last_seq).where(mine)
            after = conn.execute(q.with_for_update() if conn.dialect.name == "postgresql" else q).scalar()
            if after is None:                           # the lease ran out and another worker took it
                return 0, False
            top = last_seq(conn)                        # every event up to it has committed (changes.py)
            batch = read(conn, after, upto=top, entities=sub.entities, limit=sub.batch)
            more = len({c.seq for c in batch}) == sub.batch        # `limit` counts rows (changes.read)
            upto = batch[-1].seq if more else top
            if batch:
                sub.handler(conn, batch)
            if upto != after:
                now = db_now()
                moved = conn.execute(cursors.update().where(mine, cursors.c.last_seq == after).values(
                    last_seq=upto, attempts=0, last_error=None, retry_at=None, updated_at=now,
                    claimed_until=now + lease_time(LEASE)))
                if moved.rowcount != 1:
                    raise LeaseLost(f"feed subscriber {sub.name} was taken over by another worker")
            return len(batch), more
    except LeaseLost as exc:
        log.warning("%s; its batch is left to that worker", exc)
        return 0, False
    except Exception as exc:  # noqa: BLE001 - a subscriber's failure: keep it, retry later
        if lost_a_race(exc):        # another writer's transaction, not the batch: again at the next turn
            log.warning("feed subscriber %s ran into another transaction (%s); its batch runs again at the next "
                        "turn", sub.name, type(exc.orig).__name__)
            return 0, False
        _failed(engine, sub.name, worker, exc)
        return 0, False


def _failed(engine: Engine, name: str, worker: str, exc: Exception) -> None:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    with writing(engine) as conn:
        row = conn.execute(sa.select(cursors.c.attempts, cursors.c.last_seq)
                           .where(cursors.c.subscriber == name)).first()
        attempts = (row.attempts if row else 0) + 1
        wait = min(timedelta(seconds=30) * 2 ** min(attempts - 1, 10), timedelta(hours=1))
        conn.execute(cursors.update().where(cursors.c.subscriber == name, cursors.c.claimed_by == worker).values(
            attempts=attempts, last_error=error, retry_at=db_now() + wait, updated_at=db_now()))
    level = logging.ERROR if attempts >= WARN_AFTER else logging.WARNING
    log.log(level, "feed subscriber %s failed on the changes after #%s (%s time(s)); retry in %s: %s",
            name, row.last_seq if row else "?", attempts, wait, error, exc_info=attempts >= WARN_AFTER)


def _release(engine: Engine, name: str, worker: str) -> None:
    with writing(engine) as conn:
        conn.execute(cursors.update().where(cursors.c.subscriber == name, cursors.c.claimed_by == worker)
                     .values(claimed_by=None, claimed_until=None))


def status(engine: Engine) -> list[dict]:
    """Every subscriber's cursor: how far it has read, how far behind it is, its failures."""
    with engine.connect() as conn:
        top = last_seq(conn)
        rows = conn.execute(sa.select(cursors).order_by(cursors.c.subscriber)).mappings().all()
    return [{**dict(r), "behind": max(top - r["last_seq"], 0), "registered": r["subscriber"] in _subscribers}
            for r in rows]


def skip(engine: Engine, name: str, seq: int) -> None:
    """Move subscriber `name` past event `seq` without handling it (the way past a poison event)."""
    with writing(engine) as conn:
        done = conn.execute(cursors.update().where(cursors.c.subscriber == name, cursors.c.last_seq < seq).values(
            last_seq=seq, attempts=0, last_error=None, retry_at=None, updated_at=db_now()))
        if done.rowcount != 1:
            raise ValueError(f"no subscriber `{name}` before change #{seq}")


def prune(engine: Engine, keep: timedelta = timedelta(days=30)) -> int:
    """Delete the events older than `keep` that every subscriber has read; returns how many."""
    with writing(engine) as conn:
        slowest = conn.execute(sa.select(sa.func.min(cursors.c.last_seq))).scalar()
        cond = changes.c.at < db_now() - keep
        if slowest is not None:
            cond = sa.and_(cond, changes.c.seq <= slowest)
        return conn.execute(changes.delete().where(cond)).rowcount
