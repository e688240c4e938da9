"""Searching the audit log, read only: who did what, when, to which record — the auditor's page
(runtime/web/audit.py), `GET /audit` (runtime/http/audit.py) and a record's change history.

Filters: the actor (a user name), the action, the entity, a record (its id; a bulk create is one
entry holding many records, and a list read of personal data one entry naming many ids — both are
found by any record they hold), and a range of bank days (dsl/bank_time.py: a day runs midnight to
midnight on the bank's clock). Entries come newest first, in pages.

An entry comes out as a `Found`: its record ids and, for the record asked about (or the one
record of the entry), the fields that changed from → to. Personal fields (the entities'
`personal:` key) are masked here (dsl/values/mask.py) unless the caller says the reader may see
them: the log keeps the stored values, the reader sees what the records would show them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Iterator, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dsl.bank_time import bank_day_starts
from dsl.values.mask import mask
from runtime.storage.tables import audit_holds, audit_log

HIDDEN_FIELDS = ("version", "created_at", "updated_at")    # what every change changes
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None
    action: str | None = None
    entity: str | None = None
    record_id: int | None = None
    since: date | None = None           # bank days, both ends included
    until: date | None = None


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


@dataclass
class Found:
    seq: int
    at: datetime                        # aware UTC
    actor: str
    action: str
    entity: str | None
    record_id: int | None               # the one record of the entry (None: several, or none)
    record_ids: tuple[int, ...]         # every record the entry holds
    bundle_version: int | None
    changes: list[Change] = field(default_factory=list)
    detail: dict | None = None          # a security event's or a deploy's details, a list read's ids


@dataclass
class Results:
    entries: list[Found]
    total: int
    limit: int
    offset: int


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _record_conditions(record_id: int, entity: str | None) -> Any:
    """The entries about record `record_id`: its own, and those about several records holding it
    (a bulk create, a list read naming it), found through their index `banyan_audit_holds`."""
    held = sa.select(audit_holds.c.seq).where(audit_holds.c.record_id == record_id)
    if entity:
        held = held.where(audit_holds.c.entity == entity)
    return sa.or_(audit_log.c.record_id == record_id, audit_log.c.seq.in_(held))


def conditions(q: AuditQuery) -> list:
    conds: list = []
    if q.actor:
        conds.append(audit_log.c.actor == q.actor)
    if q.action:
        conds.append(audit_log.c.action == q.action)
    if q.entity:
        conds.append(audit_log.c.entity == q.entity)
    if q.record_id is not None:
        conds.append(_record_conditions(q.record_id, q.entity))
    if q.since is not None:
        conds.append(audit_log.c.at >= _utc(bank_day_starts(q.since)))
    if q.until is not None:
        conds.append(audit_log.c.at < _utc(bank_day_starts(q.until + timedelta(days=1))))
    return conds


def _loads(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _masked(values: Any, kinds: Mapping[str, str]) -> Any:
    if not kinds or not isinstance(values, dict):
        return values
    return {k: mask(v, kinds[k]) if k in kinds else v for k, v in values.items()}


def _found(row: Any, focus: int | None, personal: Mapping[str, Mapping[str, str]]) -> Found:
    before, after = _loads(row.before), _loads(row.after)
    kinds = personal.get(row.entity or "", {})
    ids: tuple[int, ...] = ()
    detail = None
    if row.record_id is not None:
        ids = (row.record_id,)
    elif isinstance(after, list):                      # a bulk create: every record, with its id
        ids = tuple(r["id"] for r in after if isinstance(r, dict) and isinstance(r.get("id"), int))
        one = next((r for r in after if isinstance(r, dict) and r.get("id") == focus), None)
        after = one if one is not None else (after[0] if len(after) == 1 else None)
    elif isinstance(after, dict) and isinstance(after.get("ids"), list):     # a list read or an export
        ids = tuple(i for i in after["ids"] if isinstance(i, int))
        detail = {k: v for k, v in after.items() if k != "ids"}
        after = None
    if row.entity == "user" or row.action in ("deploy", "rollback", "promote", "flow", "hand_over") or \
            (row.record_id is None and not ids and isinstance(after, dict)):
        detail, before_d = (after if isinstance(after, dict) else {"text": row.after} if row.after else None), before
        before, after = (before_d if isinstance(before_d, dict) else None), None
        changes = [Change(k, v, (detail or {}).get(k)) for k, v in sorted((before or {}).items())
                   if (detail or {}).get(k) != v]
        return Found(row.seq, _utc(row.at), row.actor, row.action, row.entity, row.record_id, ids,
                     row.bundle_version, changes, detail)
    before, after = _masked(before, kinds), _masked(after, kinds)
    changes = []
    if isinstance(before, dict) or isinstance(after, dict):
        b, a = before if isinstance(before, dict) else {}, after if isinstance(after, dict) else {}
        for name in list(dict.fromkeys([*b, *a])):
            if name in HIDDEN_FIELDS or name == "id" or b.get(name) == a.get(name):
                continue
            changes.append(Change(name, b.get(name), a.get(name)))
    return Found(row.seq, _utc(row.at), row.actor, row.action, row.entity,
                 row.record_id if row.record_id is not None else (focus if focus in ids else None), ids,
                 row.bundle_version, changes, detail)


def search(engine: Engine, q: AuditQuery, *, limit: int = 50, offset: int = 0,
           personal: Mapping[str, Mapping[str, str]] | None = None) -> Results:
    """A page of the entries matching `q`, newest first. `personal`: {entity: {field: mask kind}}
    of the fields to show masked (empty for a reader who may see personal data)."""
    conds = conditions(q)
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(*conds)).scalar() or 0
        rows = conn.execute(sa.select(audit_log).where(*conds).order_by(audit_log.c.seq.desc())
                            .limit(limit).offset(offset)).all()
    return Results([_found(r, q.record_id, personal or {}) for r in rows], total, limit, offset)


def iter_search(engine: Engine, q: AuditQuery, *, personal: Mapping[str, Mapping[str, str]] | None = None,
                chunk: int = 2000) -> Iterator[Found]:
    """Every entry matching `q`, newest first, read in chunks (an export)."""
    conds, last = conditions(q), None
    while True:
        where = conds + ([audit_log.c.seq < last] if last is not None else [])
        with engine.connect() as conn:
            rows = conn.execute(sa.select(audit_log).where(*where).order_by(audit_log.c.seq.desc()).limit(chunk)).all()
        for r in rows:
            yield _found(r, q.record_id, personal or {})
        if len(rows) < chunk:
            return
        last = rows[-1].seq


def distinct(engine: Engine, column: str) -> list[str]:
    """The values the log holds in `column` ("action", "entity" or "actor"), sorted: a filter's choices."""
    col = audit_log.c[column]
    with engine.connect() as conn:
        return sorted(v for v in conn.execute(sa.select(col).where(col.is_not(None)).distinct()).scalars())


def latest_of_records(conn: Connection, wanted: Mapping[str, Iterable[int]], *, limit: int,
                      personal: Mapping[str, Mapping[str, str]] | None = None,
                      actions: tuple[str, ...] = ("create", "update", "delete")) -> list[Found]:
    """The newest `limit` entries of `actions` about any of the records `wanted` ({entity: ids}) —
    their own entries, not the bulk ones holding many (a feed of what changed on them) — newest
    first: one query per entity and 500 ids (index `ix_banyan_audit_entity_record`)."""
    a = audit_log.c
    seqs: list[int] = []
    for entity, ids in wanted.items():          # the newest entries' numbers first: no images read yet
        ids = sorted({i for i in ids if isinstance(i, int)})
        for start in range(0, len(ids), 500):
            seqs += conn.execute(sa.select(a.seq).where(
                a.entity == entity, a.record_id.in_(ids[start:start + 500]), a.action.in_(actions))
                .order_by(a.seq.desc()).limit(limit)).scalars()
    newest = sorted(seqs, reverse=True)[:limit]
    if not newest:
        return []
    rows = conn.execute(sa.select(audit_log).where(a.seq.in_(newest)).order_by(a.seq.desc())).all()
    return [_found(r, r.record_id, personal or {}) for r in rows]
