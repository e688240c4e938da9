"""Out of office (代理): a person names a deputy for a period (first and last day, both included,
in the bank's days) with an optional reason. While the period runs, new flow tasks that would go
to them go to the deputy, on their behalf: the flow directory asks `deputy_on` (runtime/flows/
directory.py) and the engine makes the task (engine/flow/deputies.py). Tasks already open stay
where they are unless the person hands them over too (runtime/people/).

One period at a time: a new one that overlaps another of the same person is refused (cancel the
other first). A deputy must be a known, active person other than the one away; the deputy's own
absence is not followed (no chains). Every period set or cancelled is a security event in the
audit log."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dsl.errors import BanyanError
from runtime.audit import log as audit
from runtime.auth.tables import deputies, people, users
from runtime.storage.db import writing
from runtime.storage.prepared import Prepared

MAX_REASON = 200


class DeputyError(BanyanError):
    """A deputy period that cannot be saved; `key` says why, `params` fill the words."""
    code, status, namespace = "invalid_deputy", 422, "auth"

    def __init__(self, why: str, message: str, field: str, **params: object):
        super().__init__(message, key=f"auth.deputy.{why}", params=params, problems=[((field,), message)])


@dataclass(frozen=True)
class Period:
    id: int
    user: str
    deputy: str
    starts: date
    ends: date
    reason: str | None

    def covers(self, day: date) -> bool:
        return self.starts <= day <= self.ends

    def to_dict(self) -> dict:
        return {"id": self.id, "user": self.user, "deputy": self.deputy, "from": self.starts.isoformat(),
                "until": self.ends.isoformat(), "reason": self.reason}


def parse_day(value: object, field: str) -> date:
    """A day typed by a person (YYYY-MM-DD) or given as a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise DeputyError("bad_date", f"`{value}` is not a date: write it as YYYY-MM-DD", field,
                          value=str(value)) from None


_ON = Prepared(sa.select(deputies.c.deputy).where(deputies.c.user_name == sa.bindparam("k_user"),
                                                  deputies.c.starts <= sa.bindparam("k_day"),
                                                  deputies.c.ends >= sa.bindparam("k_day"))
               .order_by(deputies.c.id).limit(1))


def deputy_on(conn: Connection, user: str, day: date) -> str | None:
    """Who takes `user`'s new tasks on `day` (None: nobody, they are in)."""
    row = _ON.first(conn, {"k_user": user, "k_day": day})
    return row.deputy if row is not None else None


def _row(r) -> Period:
    return Period(r.id, r.user_name, r.deputy, r.starts, r.ends, r.reason)


def periods(engine: Engine, user: str, *, today: date) -> list[Period]:
    """`user`'s periods that have not ended by `today`, soonest first."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(deputies).where(deputies.c.user_name == user, deputies.c.ends >= today)
                            .order_by(deputies.c.starts, deputies.c.id)).all()
    return [_row(r) for r in rows]


def covering(engine: Engine, deputy: str, *, today: date) -> list[Period]:
    """The periods in which `deputy` stands in for someone, not ended by `today`."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(deputies).where(deputies.c.deputy == deputy, deputies.c.ends >= today)
                            .order_by(deputies.c.starts, deputies.c.id)).all()
    return [_row(r) for r in rows]


def _known(conn: Connection, name: str) -> bool:
    """A person of the directory who has not been disabled from signing in."""
    if conn.execute(sa.select(people.c.name).where(people.c.name == name)).first() is None:
        return False
    active = conn.execute(sa.select(users.c.active).where(users.c.name == name)).scalar()
    return active is None or bool(active)


def set_deputy(engine: Engine, user: str, deputy: str, starts: object, ends: object, *, today: date,
               reason: str | None = None, by: str | None = None, conn: Connection | None = None) -> Period:
    """Name `deputy` for `user` from `starts` until `ends` (inclusive). `by`: who does it (the
    person themselves or an administrator; None: the operator); `conn`: inside that transaction."""
    if conn is not None:
        return _set(conn, user, deputy, starts, ends, today, reason, by)
    with writing(engine) as conn:
        return _set(conn, user, deputy, starts, ends, today, reason, by)


def _set(conn: Connection, user: str, deputy: str, starts: object, ends: object, today: date,
         reason: str | None, by: str | None) -> Period:
    user, deputy = (user or "").strip(), (deputy or "").strip()
    first, last = parse_day(starts, "from"), parse_day(ends, "until")
    reason = (reason or "").strip() or None
    if not deputy:
        raise DeputyError("no_deputy", "name the deputy", "deputy")
    if deputy == user:
        raise DeputyError("self", f"{user} cannot be their own deputy", "deputy")
    if last < first:
        raise DeputyError("bad_period", f"the period ends ({last}) before it starts ({first})", "until",
                          starts=first.isoformat(), ends=last.isoformat())
    if last < today:
        raise DeputyError("past", f"the period ended on {last}, before today ({today})", "until",
                          ends=last.isoformat())
    if reason is not None and len(reason) > MAX_REASON:
        raise DeputyError("long_reason", f"the reason is longer than {MAX_REASON} characters", "reason",
                          limit=MAX_REASON)
    for name, field in ((user, "user"), (deputy, "deputy")):
        if not _known(conn, name):
            raise DeputyError("unknown", f"no active person `{name}`", field, name=name)
    clash = conn.execute(sa.select(deputies).where(deputies.c.user_name == user, deputies.c.starts <= last,
                                                   deputies.c.ends >= first).limit(1)).first()
    if clash is not None:
        raise DeputyError("overlap", f"{user} already has {clash.deputy} as deputy from {clash.starts} until "
                                     f"{clash.ends}; cancel that period first", "from",
                          deputy=clash.deputy, starts=clash.starts.isoformat(), ends=clash.ends.isoformat())
    new_id = conn.execute(deputies.insert().values(
        user_name=user, deputy=deputy, starts=first, ends=last, reason=reason, created_by=by or audit.operator(),
        created_at=datetime.now(timezone.utc))).inserted_primary_key[0]
    period = Period(int(new_id), user, deputy, first, last, reason)
    audit.append(conn, [_event(by, "deputy_set", None, period.to_dict())], None)
    return period


def cancel_deputy(engine: Engine, user: str, period_id: int, *, by: str | None = None) -> Period:
    """End one of `user`'s periods (it is deleted: tasks already given to the deputy stay theirs)."""
    with writing(engine) as conn:
        row = conn.execute(sa.select(deputies).where(deputies.c.id == period_id,
                                                     deputies.c.user_name == user)).first()
        if row is None:
            raise DeputyError("no_period", f"{user} has no deputy period {period_id}", "id", id=period_id)
        conn.execute(deputies.delete().where(deputies.c.id == period_id))
        period = _row(row)
        audit.append(conn, [_event(by, "deputy_cancel", period.to_dict(), None)], None)
    return period


def _event(by: str | None, action: str, before: dict | None, after: dict | None) -> audit.AuditEntry:
    def text(d: dict | None) -> str | None:
        return json.dumps(d, ensure_ascii=False, sort_keys=True) if d is not None else None
    return audit.AuditEntry(by or audit.operator(), action, "user", None, text(before), text(after))
