"""Preparing new records in batches: convert, default, resolve references, check uniqueness,
compute, validate — every problem of every row collected, nothing written here."""
from __future__ import annotations

from typing import Any, Callable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dsl.values import BadValue, value_reader
from dsl.values.numbers import read_integer
from runtime.deploy.live import LiveModel
from runtime.records.context import Loader, RecordContext
from runtime.records.store import allocate_ids, check_unique, keys_to_ids
from runtime.records.validation import EntityRules, Problem


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
                 rows: list[tuple[int, dict]], pending: dict[Any, int], problems: dict[int, list[Problem]],
                 readable: Callable[[str], list] | None = None) -> None:
    """Replace references by ids in place. A reference is a record's key (or id), else its display
    name when exactly one record bears it (dsl/values: people write `华东集团`, not `G017`); an
    unknown name and a name several records share are problems naming the field. `pending` maps
    (entity, key) of records being created in this transaction to their ids; `readable(target)`
    (SQL conditions, e.g. `Records.readable(target, scope)`) limits the names to the writer's scope."""
    for field, target in rules.refs.items():
        wanted = {vals[field] for _, vals in rows if vals.get(field) is not None}
        wanted -= {k for k in wanted if (target, k) in pending}
        found = keys_to_ids(conn, live, target, wanted) if wanted else {}
        named, shared = _names_to_ids(conn, live, target, {w for w in wanted - set(found) if isinstance(w, str)},
                                      readable)
        for pos, vals in rows:
            v = vals.get(field)
            if v is None:
                continue
            got = pending.get((target, v)) or found.get(v) or named.get(v)
            if got is not None:
                vals[field] = got
            elif v in shared:
                problems.setdefault(pos, []).append(Problem.of(
                    (field,), "reference_ambiguous", key="values.reference_ambiguous", value=v,
                    field=_field_label(live, entity, field), target=_entity_label(live, target), count=shared[v]))
            else:
                problems.setdefault(pos, []).append(unknown_reference(field, target, "", v, live, entity))


def _names_to_ids(conn: Connection, live: LiveModel, target: str, names: set[str],
                  readable: Callable[[str], list] | None) -> tuple[dict[str, int], dict[str, int]]:
    """({name: id} for names exactly one record bears, {name: how many} for names several bear)."""
    display = live.entity(target).display
    t = live.table(target)
    if not names or not display or display not in t.c:
        return {}, {}
    conds = [t.c[display].in_(sorted(names))] + (list(readable(target)) if readable is not None else [])
    ids: dict[str, list[int]] = {}
    for name, id_ in conn.execute(sa.select(t.c[display], t.c.id).where(*conds)):
        ids.setdefault(name, []).append(id_)
    return ({n: i[0] for n, i in ids.items() if len(i) == 1}, {n: len(i) for n, i in ids.items() if len(i) > 1})


def _entity_label(live: LiveModel, name: str) -> Any:
    ent = live.bundle.entities.get(name)
    label = getattr(getattr(ent, "meta", None), "label", None)
    return label if label is not None and (label.zh or label.en) else name


def _field_label(live: LiveModel, entity: str | None, field: str, target: str | None = None) -> Any:
    """The field's label; without the entity, the label of a field of that name referring to
    `target` (so a hidden record's answer reads exactly like a missing one's)."""
    ents = [live.bundle.entities.get(entity)] if entity else list(live.bundle.entities.values())
    for ent in ents:
        for f in getattr(ent, "fields", ()):
            if f.name == field and (entity or f.ref == target) and (f.label.zh or f.label.en):
                return f.label
    return field


def unknown_reference(field: str, target: str, key_name: str, value: Any, live: LiveModel | None = None,
                      entity: str | None = None) -> Problem:
    """The one answer for a reference to a record that does not exist — or that the writer may
    not read (runtime/auth/scope.py), which must not be told apart from it."""
    if live is None:
        return Problem.of((field,), "reference", key="values.reference_unknown", value=value, field=field,
                          target=target)
    return Problem.of((field,), "reference", key="values.reference_unknown", value=value,
                      field=_field_label(live, entity, field, target), target=_entity_label(live, target))


def unresolved(problems: list[Problem] | None, rules: EntityRules) -> bool:
    """Whether a row has a problem on a reference (then it is not checked for scope: that
    problem already answers, and a second would tell a hidden record from a missing one)."""
    return bool(problems) and any(p.path and p.path[0] in rules.refs for p in problems)


def scope_problems(live: LiveModel, outside: Mapping[int, Any], given: Mapping[int, Mapping[str, Any]]
                   ) -> dict[int, Problem]:
    """Problems for the rows `Placement.outside` found outside the writer's scope; `given` holds
    each row's normalised reference values as written (before they were resolved to ids)."""
    out = {}
    for pos, o in outside.items():
        value = given.get(pos, {}).get(o.field)
        if o.hidden is not None and value is not None:
            out[pos] = unknown_reference(o.field, o.hidden, live.entity(o.hidden).key or "id", value, live)
        else:
            out[pos] = Problem((o.field,), o.why or "outside your org scope", "scope")
    return out


def prepare_new(conn: Connection, loader: Loader, live: LiveModel, rules: EntityRules, entity: str,
                raws: list[Mapping[str, Any]], pending: dict[Any, int], offset: int,
                outside: Callable[[list[tuple[int, dict]]], dict[int, Any]] | None = None,
                readable: Callable[[str], list] | None = None) -> tuple[list[dict], dict[int, list[Problem]]]:
    """(values ready to insert, {position: problems}) for one batch; positions count from `offset`.
    `outside` names the rows (normalised, references resolved) that would sit outside the
    writer's org scope (runtime/auth/scope.py); `readable(target)` limits references by name to
    the records the writer may read (see `resolve_refs`)."""
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
    given = {pos: {f: vals[f] for f in rules.refs if vals.get(f) is not None} for pos, vals in rows} \
        if outside is not None else {}
    resolve_refs(conn, live, rules, entity, rows, pending, problems, readable)
    if outside is not None:
        resolved = [(pos, vals) for pos, vals in rows if not unresolved(problems.get(pos), rules)]
        for pos, problem in scope_problems(live, outside(resolved), given).items():
            problems.setdefault(pos, []).append(problem)
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


def without_echoes(rules: EntityRules, old: Mapping[str, Any], changes: Mapping[str, Any], problems: list[Problem]
                   ) -> tuple[dict[str, Any], int | None]:
    """A change as a client may send it back — the whole record it fetched — and the `version` it
    sent (None if none). What the server owns is taken out when it says what the record already
    says: `id` (this record's), the timestamps, a computed field at its current value. The version
    is the caller's to compare (a stale one is a conflict, not a lost update). Another id, a
    version that is not a number, or a computed field sent with another value is a problem."""
    out = dict(changes)
    if "id" in out:
        if str(out.pop("id")).strip() != str(old["id"]):
            problems.append(Problem.of(("id",), "id_mismatch", id=old["id"]))
    sent = None
    if "version" in out:
        raw = out.pop("version")
        try:
            sent = read_integer(raw) if raw is not None else None
        except BadValue:
            problems.append(Problem.of(("version",), "version"))
    for name in ("created_at", "updated_at"):
        if name not in rules.fields:
            out.pop(name, None)
    for f in rules.computed:
        if f.name in out:
            try:
                same = value_reader(f)(out[f.name]) == old.get(f.name)
            except BadValue:
                same = False
            if same:
                del out[f.name]
    return out, sent
