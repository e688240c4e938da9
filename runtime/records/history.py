"""What the audit log knows of the records' changes in place, read for the as-of view
(runtime/records/asof.py): one entity's update and delete entries since a moment, in one query,
kept for every later moment a backtest asks about.

Every update and delete entry holds the record's before-image (runtime/records/service.py writes
`to_json(old)`), so a record's state at a moment M is today's row with every change made after M
undone: the before-image of its first entry after M, or today's row when nothing changed since.
A record deleted after M was there (its image at M), and one written after M was not (its
`created_at`, written by the same clock as the log) — except before the entity's first record was
written (`first_written`): the log knows nothing of that time, so the records as first written
stand for it, and their own dates (an entity's time field, asof.py) decide. That is how history
loaded on the first day (statements by period, loans by disbursement) still counts for the months
before it, while what was written later counts only from when it was written.

An image holds the fields the entity had when it was written; a field added by a later deploy
reads null in it.
"""
from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.storage.tables import audit_holds, audit_log

CHUNK = 500


def utc(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives back naive UTC)."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _decimal(v: Any) -> Any:
    return Decimal(str(v)) if v is not None and not isinstance(v, bool) else v


def _date(v: Any) -> Any:
    return date.fromisoformat(v[:10]) if isinstance(v, str) else v


def _datetime(v: Any) -> Any:
    return utc(datetime.fromisoformat(v)) if isinstance(v, str) else v


def _duration(v: Any) -> Any:
    return timedelta(seconds=v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


def _integer(v: Any) -> Any:
    return int(v) if isinstance(v, (int, str)) and not isinstance(v, bool) else v


_DECODE: dict[str, Callable[[Any], Any]] = {"numeric": _decimal, "date": _date, "datetime": _datetime,
                                            "duration": _duration, "integer": _integer, "ref": _integer}


def decoder(columns: Iterable[Any]) -> Callable[[str], dict[str, Any]]:
    """JSON text of an image → the field values as `context.from_row` gives them (Decimal, date,
    aware datetime, …); a field the image lacks is None."""
    kinds = [(c.name, _DECODE.get(c.kind)) for c in columns]

    def decode(text: str) -> dict[str, Any]:
        image = json.loads(text)
        out: dict[str, Any] = {}
        for name, convert in kinds:
            v = image.get(name)
            out[name] = convert(v) if convert is not None and v is not None else v
        return out
    return decode


@dataclass
class Steps:
    """One record's entries after `since`, in the order written."""
    ats: list[datetime] = field(default_factory=list)
    befores: list[str] = field(default_factory=list)
    last_after: str | None = None           # the newest after-image (None: deleted)


class EntityHistory:
    """The changes of one entity's records after `since`."""

    def __init__(self, entity: str, columns: Iterable[Any]):
        self.entity = entity
        self.decode = decoder(columns)
        self.steps: dict[int, Steps] = {}
        self.created: dict[int, datetime | None] = {}     # of the records with steps (None: before the log)
        self.deleted: set[int] = set()
        self.first_written: datetime | None = None
        self.last_written: datetime | None = None          # the newest record today
        self._images: dict[tuple[int, int], dict[str, Any]] = {}

    def all_there(self, moment: datetime) -> bool:
        """Whether every record there today was there at `moment` too (none written since)."""
        return self.last_written is None or self.last_written <= moment or (
            self.first_written is not None and moment < self.first_written)

    def there(self, created: datetime | None, moment: datetime) -> bool:
        """Whether a record written at `created` was there at `moment`."""
        if created is None or created <= moment:
            return True
        return self.first_written is not None and moment < self.first_written

    def image(self, id_: int, moment: datetime) -> dict[str, Any] | None:
        """The record's fields at `moment` when it changed after it (its first before-image after
        `moment`); None when it did not (today's row holds)."""
        steps = self.steps.get(id_)
        if steps is None:
            return None
        i = bisect_right(steps.ats, moment)
        if i == len(steps.ats):
            return None
        found = self._images.get((id_, i))
        if found is None:
            found = self._images[(id_, i)] = {"id": id_, **self.decode(steps.befores[i])}
        return found

    def today(self, id_: int, name: str) -> Any:
        """A changed record's field today (its newest after-image; None once deleted)."""
        after = self.steps[id_].last_after
        return None if after is None else self.decode(after).get(name)

    def changed(self, moment: datetime) -> Iterable[int]:
        """The records changed (or deleted) after `moment` that were there at it."""
        for id_, steps in self.steps.items():
            if steps.ats[-1] > moment and self.there(self.created.get(id_), moment):
                yield id_


def load(conn: Connection, live: Any, entity: str, since: datetime) -> EntityHistory:
    """The entity's update and delete entries written after `since` (one query), when its records
    were first written, and when each changed record was."""
    out = EntityHistory(entity, live.model[entity].columns)
    a = audit_log.c
    found = conn.execute(sa.select(a.record_id, a.at, a.action, a.before, a.after)
                         .where(a.entity == entity, a.action.in_(("update", "delete")), a.record_id.is_not(None),
                                a.at > utc(since), a.before.is_not(None))
                         .order_by(a.seq))
    for record_id, at, action, before, after in found:
        steps = out.steps.setdefault(record_id, Steps())
        steps.ats.append(utc(at))
        steps.befores.append(before)
        steps.last_after = after if action == "update" else None
        if action == "delete":
            out.deleted.add(record_id)
    t = live.table(entity)
    first, last = conn.execute(sa.select(sa.func.min(t.c.created_at), sa.func.max(t.c.created_at))).one()
    out.last_written = None if last is None else utc(last)
    live_ids = [i for i in out.steps if i not in out.deleted]
    for start in range(0, len(live_ids), CHUNK):
        for id_, created in conn.execute(sa.select(t.c.id, t.c.created_at)
                                         .where(t.c.id.in_(live_ids[start:start + CHUNK]))):
            out.created[id_] = utc(created)
    out.created.update(_created_of_deleted(conn, entity, sorted(out.deleted)))
    times = [utc(first)] if first is not None else []
    times += [c for c in out.created.values() if c is not None]
    out.first_written = min(times) if times else None
    return out


def _created_of_deleted(conn: Connection, entity: str, ids: list[int]) -> dict[int, datetime | None]:
    """When deleted records were written: their own create entry, or the bulk one holding them
    (found through the entries' index `banyan_audit_holds`); None for those written before the log."""
    out: dict[int, datetime | None] = dict.fromkeys(ids)
    a, h = audit_log.c, audit_holds.c
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        own = sa.select(a.seq, a.record_id, a.at).where(a.entity == entity, a.action == "create",
                                                         a.record_id.in_(chunk))
        held = (sa.select(a.seq, h.record_id, a.at).select_from(audit_holds.join(audit_log, a.seq == h.seq))
                .where(h.entity == entity, h.record_id.in_(chunk), a.action == "create"))
        for _seq, record_id, at in conn.execute(sa.union_all(own, held).order_by("seq")):
            out[record_id] = utc(at)
    return out


class History:
    """The changes in place of every entity a backtest reads, each loaded once (on first use)."""

    def __init__(self, live: Any, since: datetime):
        self.live, self.since = live, since
        self._of: dict[str, EntityHistory] = {}

    def of(self, conn: Connection, entity: str) -> EntityHistory:
        found = self._of.get(entity)
        if found is None:
            found = self._of[entity] = load(conn, self.live, entity, self.since)
        return found
