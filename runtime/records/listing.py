"""Reading records for lists and pickers, inside a person's org scope (`Records.readable`,
decided by runtime/auth/scope.py): a page of records with a free-text search, field filters,
ordering and paging (one COUNT and one SELECT), and all of such a list in chunks (exports);
how many records of each entity a person may read; and the labels people see for record keys."""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

import sqlalchemy as sa

from runtime.auth.org import OrgTree
from runtime.auth.people import PeopleDirectory
from runtime.auth.scope import Scope
from runtime.records.errors import InvalidRecord
from runtime.records.service import Page, Records
from runtime.records.store import keys_to_ids
from runtime.records.validation import Problem

SEARCHABLE = ("string",)
MAX_ID = 2**63 - 1


def search_columns(entity: Any) -> list[str]:
    """The key, the display field and the indexed text fields: what a search box looks in."""
    names = [n for n in (entity.key, entity.display) if n]
    names += [f.name for f in entity.fields if f.type_name in SEARCHABLE and (f.index or f.unique) and not f.computed]
    return list(dict.fromkeys(names))


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(records: Records, conn: Any, entity: str, scope: Scope | None, search: str,
           filters: Mapping[str, str] | None, order: str | None, own: bool) -> tuple[sa.Table, list, list]:
    """(table, WHERE conditions, ORDER BY) of the list `scope` sees with this search, filters and order."""
    live = records.live
    ent, t = live.entity(entity), live.table(entity)
    rules = records.rules(entity)
    problems: list[Problem] = []
    values = rules.convert({k: v for k, v in (filters or {}).items() if v not in (None, "")}, problems)
    if problems:
        raise InvalidRecord("the filters are not valid", problems)
    conds = records.readable(entity, scope, write=own)
    search = search.strip()
    hidden = records.masked_personal_fields(conn, entity, scope)   # never an oracle for a masked value
    if hidden & set(values):
        raise InvalidRecord("the filters are not valid", [Problem((n,), "personal data: not a filter", "personal")
                                                          for n in sorted(hidden & set(values))])
    for name, v in values.items():
        if name in rules.refs and v is not None:
            v = keys_to_ids(conn, live, rules.refs[name], [v]).get(v, -1)
        conds.append(t.c[name] == v)
    if search:
        like = [t.c[c].like(_like(search), escape="\\") for c in search_columns(ent) if c not in hidden]
        if search.isdigit() and int(search) <= MAX_ID:        # a record number (ids are 64-bit)
            like.append(t.c.id == int(search))
        conds.append(sa.or_(*like))
    name = (order or "").lstrip("-")
    if name and name not in t.c:
        raise InvalidRecord(f"cannot order by `{name}`", [Problem(("order",), f"no field `{name}`", "unknown_field")])
    col = t.c[name] if name else t.c.id
    return t, conds, [col.desc() if (order or "").startswith("-") else col, t.c.id]


def list_records(records: Records, entity: str, scope: Scope | None, *, search: str = "",
                 filters: Mapping[str, str] | None = None, order: str | None = None,
                 limit: int = 25, offset: int = 0, own: bool = False) -> Page:
    """A page of records `scope` may read (with `own`: only those placed inside it)."""
    records.refresh()
    with records.engine.connect() as conn:
        t, conds, by = _where(records, conn, entity, scope, search, filters, order, own)
        total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*conds)).scalar() or 0
        rows = conn.execute(sa.select(t).where(*conds).order_by(*by).limit(limit).offset(offset)).mappings().all()
        page = Page(records.output(conn, entity, rows, scope), total, limit, offset)
    records.audit_personal(entity, [i["id"] for i in page.items], scope)     # an unmasked list: one entry
    return page


def iter_listed(records: Records, entity: str, scope: Scope | None, *, search: str = "",
                filters: Mapping[str, str] | None = None, order: str | None = None,
                chunk: int = 2000, personal: str = "personal.export") -> Iterator[dict]:
    """Every record of the list with this search, filters and order, in the list's order, read
    in chunks (what an export of the list holds): personal fields unmasked only for a reader
    with the permission `personal` (runtime/records/personal.py)."""
    records.refresh()
    offset = 0
    while True:
        with records.engine.connect() as conn:
            t, conds, by = _where(records, conn, entity, scope, search, filters, order, False)
            rows = conn.execute(sa.select(t).where(*conds).order_by(*by).limit(chunk).offset(offset)).mappings().all()
            items = records.output(conn, entity, rows, scope, personal=personal)
        yield from items
        if len(rows) < chunk:
            return
        offset += chunk


def readable_counts(records: Records, scope: Scope | None) -> dict[str, int]:
    """{entity: how many of its records `scope` may read}, for every deployed entity, by name."""
    live = records.refresh()
    names = sorted(live.bundle.entities)
    if not names:
        return {}
    counts = [sa.select(sa.func.count()).select_from(live.table(n)).where(*records.readable(n, scope, live.table(n)))
              .scalar_subquery().label(f"c{i}") for i, n in enumerate(names)]
    with records.engine.connect() as conn:              # one round trip for every entity
        row = conn.execute(sa.select(*counts)).one()
    return {n: int(v or 0) for n, v in zip(names, row)}


def record_labels(records: Records, entity: str | None, keys: Iterable[Any]) -> dict[str, str]:
    """{key: the record's display text} for `entity`'s records by key (the key itself when the
    record or the entity's display field is missing). Labels only: no scope, no other field."""
    wanted = sorted({str(k) for k in keys if k is not None})
    live = records.refresh()
    if not entity or not wanted or entity not in live.bundle.entities:
        return {k: k for k in wanted}
    ent, t = live.entity(entity), live.table(entity)
    if not ent.key or not ent.display or ent.key not in t.c or ent.display not in t.c:
        return {k: k for k in wanted}
    with records.engine.connect() as conn:
        rows = conn.execute(sa.select(t.c[ent.key], t.c[ent.display]).where(t.c[ent.key].in_(wanted))).all()
    found = {str(k): str(d) for k, d in rows if d is not None}
    return {k: found.get(k, k) for k in wanted}


def record_labels_by_id(records: Records, entity: str | None, ids: Iterable[Any]) -> dict[int, str]:
    """{id: the record's display text, else its key} for `entity`'s records by id — what the audit
    log's images hold for a reference to another entity's record; an id no record has (deleted
    since) reads `#id`. Labels only: no scope, no other field."""
    wanted = sorted({i for i in ids if isinstance(i, int) and not isinstance(i, bool)})
    out = {i: f"#{i}" for i in wanted}
    live = records.refresh()
    if not entity or not wanted or entity not in live.bundle.entities:
        return out
    ent, t = live.entity(entity), live.table(entity)
    cols = [t.c.id] + [t.c[n] for n in (ent.display, ent.key) if n and n in t.c]
    with records.engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            for row in conn.execute(sa.select(*cols).where(t.c.id.in_(wanted[start:start + 500]))):
                shown = next((v for v in row[1:] if v not in (None, "")), None)
                if shown is not None:
                    out[row[0]] = str(shown)
    return out


Labels = dict[tuple[str, str], str]          # (ref target, key) -> the name people see


def ref_labels(records: Records, wanted: Iterable[tuple[str | None, Any]], lang: str, *,
               tree: OrgTree | None = None, directory: PeopleDirectory | None = None) -> Labels:
    """{(target, key): name} for every (target, key) given: org units and roles from the org
    tree, users from the people directory, records by their display field (one query per
    target); a key without a name reads as itself. The one place a `ref` value becomes a name
    (the pages through runtime/web/names.py, the audit entries of the page and the API)."""
    by_target: dict[str, set[str]] = {}
    for target, key in wanted:
        if target and key not in (None, ""):
            by_target.setdefault(target, set()).add(str(key))
    out: Labels = {}
    if by_target.keys() & {"org_unit", "role"} and tree is None:
        tree = OrgTree(records.refresh().bundle)
    for target, keys in by_target.items():
        if target == "org_unit":
            found = {k: tree.label(k, lang) for k in keys}
        elif target == "role":
            roles = tree.roles
            found = {k: (roles[k].meta.label.text(lang) or k) if k in roles else k for k in keys}
        elif target == "user":
            found = (directory or PeopleDirectory(records.engine)).display_names(keys)
        else:
            found = record_labels(records, target, keys)
        out.update({(target, k): found.get(k, k) for k in keys})
    return out
