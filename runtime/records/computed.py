"""Keeping computed fields true when the records they aggregate change.

A computed field may read a collection (`sum(loans, l -> l.balance)`): when a loan is
written, its borrower's computed fields are recomputed in the same transaction, and so on
up (the group's `sum(members, m -> m.loan_balance)`), until nothing changes.
Each parent that changes is audited and is an `update` event on the change feed (runtime/jobs),
naming the computed fields that moved, with the writer as its actor.

A parent field that converts money (`to_cny`) and meets an amount whose currency has no exchange
rate on or before the day refuses the write (`strict`, the default): an `InvalidRecord` whose
problems name the currency and the date and say to enter the rate first, so the transaction rolls
back and nothing is written — a total is never stored null without a word. The revaluation after a
rate changes (revalue.py) is not strict: a rate deleted since leaves the figure null.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.fx import MissingRate
from runtime.audit import log as audit
from runtime.jobs.changes import append as append_changes
from runtime.records.context import Loader, RecordContext, from_row
from runtime.records.errors import InvalidRecord
from runtime.records.store import to_json
from runtime.records.validation import Problem

MAX_DEPTH = 8


def dependents(live: Any, entity: str) -> list[tuple[str, str, str]]:
    """(parent entity, collection, via field) whose computed fields read records of `entity`."""
    out = []
    for name, ent in live.bundle.entities.items():
        readers = set().union(*(f.compute.names for f in ent.fields if f.compute is not None)) if ent.fields else set()
        for c in ent.collections:
            if c.entity == entity and c.name in readers:
                out.append((name, c.name, c.via))
    return out


def propagate(conn: Connection, loader: Loader, entity: str, changes: Iterable[tuple[dict | None, dict | None]],
              rules_of: Callable[[str], Any], actor: str, depth: int = 0, *, strict: bool = True) -> int:
    """Recompute the parents of changed `entity` records; returns how many parent records changed."""
    changes = list(changes)
    total = 0
    if not changes or depth >= MAX_DEPTH:
        return 0
    for parent, _collection, via in dependents(loader.live, entity):
        ids = {rec.get(via) for pair in changes for rec in pair if rec is not None} - {None}
        if not ids:
            continue
        loader.forget_children(entity)
        changed = recompute(conn, loader, parent, sorted(ids), rules_of(parent), actor, strict=strict)
        total += len(changed) + propagate(conn, loader, parent, changed, rules_of, actor, depth + 1, strict=strict)
    return total


def prime_collections(loader: Loader, ent: Any, rules: Any, ids: list[int]) -> None:
    """Load, in bulk, the collections the entity's computed fields read, for records `ids`."""
    read = set().union(*(f.compute.names for f in rules.computed)) if rules.computed else set()
    for c in ent.collections:
        if c.name in read:
            loader.prime(c.entity, c.via, ids)


def recompute(conn: Connection, loader: Loader, entity: str, ids: list[int], rules: Any,
              actor: str, *, strict: bool = True) -> list[tuple[dict, dict]]:
    """Recompute the computed fields of records `ids`, writing those that moved; returns (old, new)
    per changed record. `strict`: a missing exchange rate refuses (see the module docstring)."""
    live = loader.live
    t = live.table(entity)
    ent = live.entity(entity)
    computed_names = [f.name for f in rules.computed]
    prime_collections(loader, ent, rules, ids)
    changed: list[tuple[dict, dict]] = []
    now = audit.utc_now()
    entries, events, key = [], [], ent.key
    missing: dict[tuple, Problem] = {}
    for start in range(0, len(ids), 500):
        rows = conn.execute(sa.select(t).where(t.c.id.in_(ids[start:start + 500]))).mappings().all()
        for r in rows:
            old = {"id": r["id"], **from_row(live, entity, r)}
            new = dict(old)
            ctx = RecordContext(entity, new, loader, r["id"])
            problems: list[Problem] = []
            rules.compute(new, ctx, problems)
            for p in problems:
                if p.code == MissingRate.code:
                    missing.setdefault((p.params.get("currency"), p.params.get("date")), Problem((), p.message,
                                       p.code, p.key, p.params))
            if strict and missing:
                continue
            diff = {n: new[n] for n in computed_names if new[n] != old[n]}
            if not diff:
                continue
            conn.execute(t.update().where(t.c.id == r["id"]).values(**diff, version=t.c.version + 1, updated_at=now))
            new["version"], old["version"] = r["version"] + 1, r["version"]
            changed.append((old, new))
            entries.append(audit.AuditEntry(actor, "update", entity, r["id"], to_json(old), to_json(new)))
            events.append((r["id"], new.get(key) if key else None, tuple(diff)))
    if strict and missing:
        raise needs_rate(list(missing.values()))
    audit.append(conn, entries, live.version)
    append_changes(conn, entity, "update", events, actor=actor, version=live.version)
    return changed


def needs_rate(problems: list[Problem]) -> InvalidRecord:
    """The refusal of a write whose totals need exchange rates that are not there: its headline is
    the first rate's words (currency, date, what to do) in the caller's language, each missing rate
    one problem."""
    error = InvalidRecord("; ".join(p.message for p in problems) + "; nothing was written", problems)
    error.key, error.params = problems[0].key, dict(problems[0].params)
    return error
