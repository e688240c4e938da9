"""Preparing new records in batches: convert, default, resolve references, check uniqueness,
compute, validate — every problem of every row collected, nothing written here."""
from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy.engine import Connection

from .live import LiveModel
from .record_context import Loader, RecordContext
from .record_store import allocate_ids, check_unique, keys_to_ids
from .validation import EntityRules, Problem


class Row(dict):
    """Field values of one input row that knows its line in a file (for the error report)."""

    def __init__(self, values: Mapping[str, Any], line: int):
        super().__init__(values)
        self.line = line


class RowError:
    """An input row that could not even be split into fields (e.g. too many cells)."""

    def __init__(self, message: str, line: int):
        self.message, self.line = message, line


def resolve_refs(conn: Connection, live: LiveModel, rules: EntityRules, entity: str,
                 rows: list[tuple[int, dict]], pending: dict[Any, int], problems: dict[int, list[Problem]]) -> None:
    """Replace reference keys by ids in place; `pending` maps (entity, key) of records being
    created in this transaction to their ids."""
    for field, target in rules.refs.items():
        wanted = {vals[field] for _, vals in rows if vals.get(field) is not None}
        wanted -= {k for k in wanted if (target, k) in pending}
        found = keys_to_ids(conn, live, target, wanted) if wanted else {}
        key_name = live.entity(target).key or "id"
        for pos, vals in rows:
            v = vals.get(field)
            if v is None:
                continue
            got = pending.get((target, v)) or found.get(v)
            if got is None:
                problems.setdefault(pos, []).append(
                    Problem((field,), f"no {target} with {key_name} `{v}`", "reference"))
            else:
                vals[field] = got


def prepare_new(conn: Connection, loader: Loader, live: LiveModel, rules: EntityRules, entity: str,
                raws: list[Mapping[str, Any]], pending: dict[Any, int], offset: int
                ) -> tuple[list[dict], dict[int, list[Problem]]]:
    """(values ready to insert, {position: problems}) for one batch; positions count from `offset`."""
    problems: dict[int, list[Problem]] = {}
    rows: list[tuple[int, dict]] = []
    bad_fields: dict[int, set] = {}
    ids = allocate_ids(conn, live, entity, len(raws))
    key = rules.entity.key
    for i, (raw, id_) in enumerate(zip(raws, ids)):
        pos = offset + i
        probs: list[Problem] = []
        if not isinstance(raw, Mapping):
            message = raw.message if isinstance(raw, RowError) else "a record must be an object of field values"
            problems[pos] = [Problem((), message, "format")]
            continue
        vals = rules.complete(rules.convert(raw, probs))
        vals["id"] = id_
        if probs:
            problems[pos] = probs
            bad_fields[pos] = {p.path[0] for p in probs if p.path}
        if key is not None and vals.get(key) is not None:
            pending.setdefault((entity, vals[key]), id_)
        rows.append((pos, vals))
    resolve_refs(conn, live, rules, entity, rows, pending, problems)
    check_unique(conn, live, entity, rules.unique, [(pos, None, vals) for pos, vals in rows], problems)
    ready = []
    for pos, vals in rows:
        probs = problems.setdefault(pos, [])
        ctx = RecordContext(entity, vals, loader, vals["id"], new=True)
        rules.compute(vals, ctx, probs, new=True)
        rules.check(vals, ctx, probs, skip={p.path[0] for p in probs if p.path})
        if probs:
            continue
        ready.append(vals)
    return ready, {p: v for p, v in problems.items() if v}
