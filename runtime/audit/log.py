"""The audit log: append-only, hash-chained, verifiable.

Every row's hash covers its own contents and the previous row's hash; a head row holds the
last sequence number and hash. Editing a row breaks its hash, deleting one breaks the chain
(or leaves the head pointing past the end). Rows are written in the same transaction as
the change they describe, so the log and the data never disagree.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.storage.prepared import Prepared
from runtime.storage.tables import audit_head, audit_log

GENESIS = "0" * 64


def utc_now() -> datetime:
    """Now, in UTC. Hashes use the naive UTC form, which both backends give back unchanged."""
    return datetime.now(timezone.utc)


def _naive_utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt.tzinfo else dt


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str                     # create | update | delete | deploy | rollback | promote
    entity: str | None = None
    record_id: int | None = None
    before: str | None = None       # JSON text of the record before (None on create)
    after: str | None = None        # JSON text after (None on delete)


def entry_hash(prev: str, seq: int, at: datetime, actor: str, version: int | None, action: str,
               entity: str | None, record_id: int | None, before: str | None, after: str | None) -> str:
    # fields joined by the unit separator; text fields are JSON-escaped so none can contain it
    body = "\x1f".join((prev, str(seq), _naive_utc(at).isoformat(timespec="microseconds"), json.dumps(actor),
                        str(version), action, json.dumps(entity), str(record_id), json.dumps(before), json.dumps(after)))
    return hashlib.sha256(body.encode()).hexdigest()


# Prepared once: append runs in every write transaction (each flow command, each record write).
_HEAD = Prepared(sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1))
_HEAD_LOCKED = Prepared(sa.select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update())
_LOG = Prepared(audit_log.insert(), ["seq", "at", "actor", "bundle_version", "action", "entity", "record_id",
                                     "before", "after", "prev_hash", "hash"])
_MOVE = Prepared(audit_head.update().where(audit_head.c.id == 1).values(seq=sa.bindparam("seq"),
                                                                         hash=sa.bindparam("hash")))
_FIRST = Prepared(audit_head.insert(), ["id", "seq", "hash"])


def append(conn: Connection, entries: Iterable[AuditEntry], bundle_version: int | None) -> int:
    """Chain `entries` onto the log in the caller's transaction; returns how many were written.
    On PostgreSQL the head row is locked, so concurrent writers chain one after the other."""
    entries = list(entries)
    if not entries:
        return 0
    head = (_HEAD_LOCKED if conn.dialect.name == "postgresql" else _HEAD).first(conn)
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    at = utc_now()
    rows = []
    for e in entries:
        seq += 1
        h = entry_hash(prev, seq, at, e.actor, bundle_version, e.action, e.entity, e.record_id, e.before, e.after)
        rows.append({"seq": seq, "at": at, "actor": e.actor, "bundle_version": bundle_version, "action": e.action,
                     "entity": e.entity, "record_id": e.record_id, "before": e.before, "after": e.after,
                     "prev_hash": prev, "hash": h})
        prev = h
    _LOG.many(conn, rows)
    if head:
        _MOVE.run(conn, {"seq": seq, "hash": prev})
    else:
        _FIRST.run(conn, {"id": 1, "seq": seq, "hash": prev})
    return len(rows)


@dataclass
class VerifyResult:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(conn: Connection, limit_problems: int = 50) -> VerifyResult:
    result = VerifyResult()
    expected_seq, prev = 1, GENESIS
    rows = conn.execution_options(yield_per=5000).execute(sa.select(audit_log).order_by(audit_log.c.seq))
    for r in rows:
        result.checked += 1
        if r.seq != expected_seq:
            missing = f"{expected_seq}" if r.seq == expected_seq + 1 else f"{expected_seq}–{r.seq - 1}"
            result.problems.append(f"entry {missing} is missing (deleted)")
        elif r.prev_hash != prev:
            result.problems.append(f"entry {r.seq} does not follow entry {r.seq - 1} (the chain is broken)")
        recomputed = entry_hash(r.prev_hash, r.seq, r.at, r.actor, r.bundle_version, r.action, r.entity,
                                r.record_id, r.before, r.after)
        if recomputed != r.hash:
            result.problems.append(f"entry {r.seq} ({r.action} {r.entity or ''} {r.record_id or ''}) was edited: "
                                   "its contents do not match its hash".replace("  ", " "))
        expected_seq, prev = r.seq + 1, r.hash
        if len(result.problems) >= limit_problems:
            return result
    head = conn.execute(sa.select(audit_head).where(audit_head.c.id == 1)).first()
    last = expected_seq - 1
    if head is None and last:
        result.problems.append("the head row is missing")
    elif head is not None and (head.seq != last or head.hash != prev):
        if head.seq > last:
            gone = f"entry {head.seq} at the end is" if head.seq == last + 1 else f"entries {last + 1}–{head.seq} at the end are"
            result.problems.append(f"{gone} missing (deleted)")
        else:
            result.problems.append(f"the head says entry {head.seq}, the log ends at {last} with another hash")
    return result
