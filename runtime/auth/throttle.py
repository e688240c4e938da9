"""Brute force: failed sign-ins counted per typed user name and per client address, in the
database (every worker counts into the same rows). `max_failures` failures for one name within
`failure_window_minutes` lock that name for `lock_minutes`; `max_failures_per_address` from one
address lock the address. A name nobody has is counted and locked exactly like a real one, so
the answer never tells who exists; the typed name is kept only as a hash (a password typed into
the name field is never stored), with the person's name beside it when it is someone's. A
successful sign-in (password and, if any, one-time code) clears its name's count (not its
address's). An administrator unlocks a
person (`banyan users unlock NAME`, the admin page)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from runtime.auth.events import now as _now
from runtime.auth.events import utc
from runtime.auth.policy import SecurityPolicy
from runtime.auth.tables import sign_in_failures as failures


def name_key(name: str) -> str:
    return hashlib.sha256(name.strip().lower()[:200].encode()).hexdigest()


def _keys(name: str, address: str | None) -> list[tuple[str, str]]:
    return [("user", name_key(name))] + ([("address", address[:100])] if address else [])


@dataclass(frozen=True)
class Lockout:
    kind: str                    # "user" or "address"
    user: str | None             # the person locked (a known name), else None
    address: str | None
    until: datetime
    failures: int


def locked(conn: Connection, name: str, address: str | None, at: datetime | None = None) -> bool:
    """Whether `name` or `address` is locked now."""
    at = at or _now()
    for kind, key in _keys(name, address):
        row = conn.execute(sa.select(failures.c.locked_until).where(failures.c.kind == kind,
                                                                    failures.c.key == key)).first()
        if row is not None and row.locked_until is not None and utc(row.locked_until) > at:  # type: ignore[operator]
            return True
    return False


def record_failure(conn: Connection, name: str, address: str | None, known: str | None,
                   policy: SecurityPolicy, at: datetime | None = None) -> list[Lockout]:
    """Count one failure for `name` and `address` (`known`: the person the name is, else None);
    returns the locks this failure set."""
    at = at or _now()
    window_start = at - timedelta(minutes=policy.failure_window_minutes)
    out = []
    for kind, key in _keys(name, address):
        limit = policy.max_failures if kind == "user" else policy.max_failures_per_address
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(failures)
        fresh = failures.c.window_start < window_start
        conn.execute(insert.values(kind=kind, key=key, user_name=known if kind == "user" else None, failures=1,
                                   window_start=at, locked_until=None)
                     .on_conflict_do_update(index_elements=["kind", "key"], set_={
                         "failures": sa.case((fresh, 1), else_=failures.c.failures + 1),
                         "window_start": sa.case((fresh, at), else_=failures.c.window_start),
                         "user_name": known if kind == "user" else None}))
        row = conn.execute(sa.select(failures).where(failures.c.kind == kind, failures.c.key == key)).first()
        assert row is not None
        still = row.locked_until is not None and utc(row.locked_until) > at  # type: ignore[operator]
        if row.failures >= limit and not still:
            until = at + timedelta(minutes=policy.lock_minutes)
            conn.execute(failures.update().where(failures.c.kind == kind, failures.c.key == key)
                         .values(locked_until=until, failures=0, window_start=at))
            out.append(Lockout(kind, known if kind == "user" else None, address if kind == "address" else None,
                               until, row.failures))
    return out


def clear_name(conn: Connection, name: str) -> None:
    """A successful sign-in: the name's count starts afresh."""
    conn.execute(failures.delete().where(failures.c.kind == "user", failures.c.key == name_key(name)))


def unlock(conn: Connection, *, user: str | None = None, address: str | None = None) -> bool:
    """Lift the lock and the count of a person (by user name) or an address; whether one was there."""
    if user is not None:
        cond = sa.and_(failures.c.kind == "user", failures.c.key == name_key(user))
    else:
        cond = sa.and_(failures.c.kind == "address", failures.c.key == (address or "")[:100])
    row = conn.execute(sa.select(failures.c.locked_until).where(cond)).first()
    conn.execute(failures.delete().where(cond))
    return row is not None and row.locked_until is not None and utc(row.locked_until) > _now()  # type: ignore[operator]


def current_locks(conn: Connection, at: datetime | None = None) -> list[Lockout]:
    """The locks in force: people (by name, when the locked name is someone's) and addresses."""
    at = at or _now()
    rows = conn.execute(sa.select(failures).where(failures.c.locked_until.is_not(None))).all()
    return [Lockout(r.kind, r.user_name, r.key if r.kind == "address" else None, utc(r.locked_until), 0)  # type: ignore[arg-type]
            for r in rows if utc(r.locked_until) > at]  # type: ignore[operator]
