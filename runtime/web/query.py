"""Listing and finding records for a person: a free-text search, field filters, ordering and
paging — one COUNT and one SELECT per page — inside their org scope (the records service's
`readable`, decided by runtime/auth/scope.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import sqlalchemy as sa

from runtime.auth.scope import Scope
from runtime.records.errors import InvalidRecord
from runtime.records.store import keys_to_ids
from runtime.records.validation import Problem

SEARCHABLE = ("string",)
MAX_ID = 2**63 - 1


@dataclass
class Listing:
    items: list[dict]
    total: int
    limit: int
    offset: int


def search_columns(entity: Any) -> list[str]:
    """The key, the display field and the indexed text fields: what a search box looks in."""
    names = [n for n in (entity.key, entity.display) if n]
    names += [f.name for f in entity.fields if f.type_name in SEARCHABLE and (f.index or f.unique) and not f.computed]
    return list(dict.fromkeys(names))


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_records(ctx: Any, entity: str, scope: Scope | None, *, search: str = "",
                 filters: Mapping[str, str] | None = None, order: str | None = None,
                 limit: int = 25, offset: int = 0, own: bool = False) -> Listing:
    """A page of records `scope` may read (with `own`: only those placed inside it)."""
    live = ctx.live()
    ent, t = live.entity(entity), live.table(entity)
    rules = ctx.records.rules(entity)
    problems: list[Problem] = []
    values = rules.convert({k: v for k, v in (filters or {}).items() if v not in (None, "")}, problems)
    if problems:
        raise InvalidRecord("the filters are not valid", problems)
    conds = ctx.records.readable(entity, scope, write=own)
    search = search.strip()
    with ctx.engine.connect() as conn:
        for name, v in values.items():
            if name in rules.refs and v is not None:
                v = keys_to_ids(conn, live, rules.refs[name], [v]).get(v, -1)
            conds.append(t.c[name] == v)
        if search:
            cols = search_columns(ent)
            like = [t.c[c].like(_like(search), escape="\\") for c in cols]
            if search.isdigit() and int(search) <= MAX_ID:        # a record number (ids are 64-bit)
                like.append(t.c.id == int(search))
            conds.append(sa.or_(*like))
        name = (order or "").lstrip("-")
        if name and name not in t.c:
            raise InvalidRecord(f"cannot order by `{name}`", [Problem(("order",), f"no field `{name}`", "unknown_field")])
        col = t.c[name] if name else t.c.id
        by = [col.desc() if (order or "").startswith("-") else col, t.c.id]
        total = conn.execute(sa.select(sa.func.count()).select_from(t).where(*conds)).scalar() or 0
        rows = conn.execute(sa.select(t).where(*conds).order_by(*by).limit(limit).offset(offset)).mappings().all()
        return Listing(ctx.records.output(conn, entity, rows, scope), total, limit, offset)

