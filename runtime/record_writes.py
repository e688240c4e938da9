"""Preparing new records in batches: convert, default, resolve references, check uniqueness,
compute, validate — every problem of every row collected, nothing written here."""
from __future__ import annotations

from typing import Any, Callable, Mapping

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
                raws: list[Mapping[str, Any]], pending: dict[Any, int], offset: int,
                outside: Callable[[list[tuple[int, dict]]], dict[int, tuple[str, str]]] | None = None
                ) -> tuple[list[dict], dict[int, list[Problem]]]:
    """(values ready to insert, {position: problems}) for one batch; positions count from `offset`.
    `outside` names the rows (normalised, references resolved) that would sit outside the
    writer's org scope (runtime/auth/scope.py)."""
    problems: dict[int, list[Problem]] = {}
    rows: list[tuple[int, dict]] = []
    ids = allocate_ids(conn, live, entity, len(raws))
    key = rules.entity.key
    convert_new = rules.convert_new
    for pos, raw, id_ in zip(range(offset, offset + len(raws)), raws, ids):
        if not isinstance(raw, dict) and not isinstance(raw, Mapping):
            message = raw.message if isinstance(raw, RowError) else "a record must be an object of field values"
            problems[pos] = [Problem((), message, "format")]
            continue
        probs: list[Problem] = []
        vals = convert_new(raw, probs)
        vals["id"] = id_
        if probs:
            problems[pos] = probs
        if key is not None:
            k = vals.get(key)
            if k is not None:
                pending.setdefault((entity, k), id_)
        rows.append((pos, vals))
    resolve_refs(conn, live, rules, entity, rows, pending, problems)
    if outside is not None:
        for pos, (field, why) in outside(rows).items():
            problems.setdefault(pos, []).append(Problem((field,), why, "scope"))
    check_unique(conn, live, entity, rules.unique, [(pos, None, vals) for pos, vals in rows], problems)
    ready = []
    compute, check = rules.compute, rules.check
    for pos, vals in rows:
        probs = problems.get(pos)
        if probs is None:
            probs = []
        ctx = RecordContext(entity, vals, loader, vals["id"], new=True)
        compute(vals, ctx, probs, new=True)
        check(vals, ctx, probs, skip={p.path[0] for p in probs if p.path} if probs else frozenset())
        if probs:
            problems[pos] = probs
            continue
        ready.append(vals)
    return ready, {p: v for p, v in problems.items() if v}
