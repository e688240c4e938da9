"""Reading what a view shows of one subject, cut to the reader's org scope, in a few set-based
queries: the subject (one), each collection the view's expressions read (one statement per
collection and 2,000 parents, e.g. all members' loans at once, holding in its WHERE the conditions
of what the reader may read: runtime/auth/scope.py decides, `Placement.readable`), and only the
fields the view reads. Never a query per member. References shown in tables become names with one
query per referenced entity."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.auth.scope import Scope, placement_of
from runtime.deploy.live import LiveModel
from runtime.records.context import Loader, RecordContext

CHUNK = 2000                 # parents per statement (SQLite takes 32,766 parameters; PostgreSQL more)


class ScopedLoader(Loader):
    """A records loader for expressions that sees only what `scope` may read: a collection holds
    the readable records only (a serving branch, 协办行, sees the members it serves), a reference
    to a record outside the scope reads as no record. `scope` None or bank-wide: everything."""

    chunk = CHUNK

    def __init__(self, conn: Connection, live: LiveModel, scope: Scope | None,
                 fields: Mapping[str, set[str]] | None = None):
        # `fields`: entity → the fields read of its collection rows (`fields_read`); the rest are not loaded
        super().__init__(conn, live, {e: frozenset(f) for e, f in (fields or {}).items()})
        self.scope = scope
        self.placement = placement_of(live)
        self.seen: dict[str, set[int]] = {}  # entity → ids of records loaded here (all readable)
        self._allowed: dict[tuple[str, int], bool] = {}

    @property
    def cut(self) -> bool:
        return self.scope is not None and self.scope.units is not None

    def conditions(self, entity: str) -> list:
        """A collection holds only what the scope may read: `Placement.readable` in the same WHERE."""
        return self.placement.readable(self.live, entity, self.scope) if self.cut else []

    def prime(self, entity: str, via: str, parent_ids: list[int]) -> None:
        """Load the children of many parents at once, as the records room's loader does (one
        statement per 2,000 parents, only the fields the view reads when given), keeping only what
        the scope may read (`conditions`)."""
        super().prime(entity, via, parent_ids)
        cache = self._children[(entity, via)]
        self.seen.setdefault(entity, set()).update(r["id"] for i in parent_ids for r in cache.get(i, ()))

    def kept(self, entity: str, rows: list[dict]) -> list[dict]:
        rows = self._readable(entity, rows)
        self.seen.setdefault(entity, set()).update(r["id"] for r in rows)
        return rows

    def _readable(self, entity: str, rows: list[dict]) -> list[dict]:
        if not self.cut or not rows:
            return rows
        keep = self.placement.ids_within(self.conn, self.live, entity, self.scope, [r["id"] for r in rows])
        return [r for r in rows if r["id"] in keep]

    def row(self, entity: str, id_: int) -> dict | None:
        found = super().row(entity, id_)
        if found is None or not self.cut:
            return found
        allowed = self._allowed.get((entity, id_))
        if allowed is None:
            allowed = self._allowed[(entity, id_)] = bool(
                self.placement.ids_within(self.conn, self.live, entity, self.scope, [id_]))
        return found if allowed else None


def collection_paths(exprs: Iterable[Any]) -> dict[str, Any]:
    """The field paths the expressions read, as a tree of names from the subject ({"members":
    {"loans": {"balance": {}}}}), `subject.x` read as `x`."""
    tree: dict[str, Any] = {}
    for e in exprs:
        for path in getattr(e, "paths", ()) or ():
            steps = path[1:] if path and path[0] == "subject" else path
            node = tree
            for step in steps:
                node = node.setdefault(step, {})
    return tree


def fields_read(live: LiveModel, entity: str, tree: Mapping[str, Any], out: dict[str, set[str]] | None = None
                ) -> dict[str, set[str]]:
    """{collection entity: the fields `tree` (collection_paths) reads of its records}, with each
    collection's `via` and a money field's currency field; the callers add what tables show."""
    out = {} if out is None else out
    ent = live.entity(entity)
    collections = {c.name: c for c in ent.collections}
    for name, below in tree.items():
        c = collections.get(name)
        if c is not None:
            out.setdefault(c.entity, set()).add(c.via)
            fields_read(live, c.entity, below, out)
            continue
        f = ent.field(name)
        if f is not None:
            out.setdefault(entity, set()).add(name)
            if getattr(f, "currency_field", None):
                out[entity].add(f.currency_field)
    return out


def prime(loader: Loader, entity: str, ids: list[int], tree: Mapping[str, Any]) -> None:
    """Load, in bulk, every collection `tree` names under records `ids` of `entity`, level by level."""
    if not ids:
        return
    _refs, collections, _empty, _names = loader.meta(entity)
    for name, below in sorted(tree.items()):
        c = collections.get(name)
        if c is None:
            continue
        loader.prime(c.entity, c.via, ids)
        if below:
            child_ids = [r["id"] for i in ids for r in loader.children(c.entity, c.via, i)]
            prime(loader, c.entity, child_ids, below)


def record_names(conn: Connection, live: LiveModel, entity: str, ids: Iterable[int]) -> dict[int, tuple[Any, str]]:
    """{id: (key, display name)} of `entity`'s records (one query per 500); a record without a
    display field or value shows its key."""
    ids = sorted({i for i in ids if isinstance(i, int)})
    ent, t = live.entity(entity), live.table(entity)
    key = ent.key or "id"
    display = ent.display if ent.display and ent.display in t.c else key
    out: dict[int, tuple[Any, str]] = {}
    for start in range(0, len(ids), 500):
        q = sa.select(t.c.id, t.c[key], t.c[display]).where(t.c.id.in_(ids[start:start + 500]))
        for i, k, d in conn.execute(q):
            out[i] = (k, str(d if d not in (None, "") else k))
    return out


def plain_paths(live: LiveModel, entity: str, exprs: Iterable[Any]) -> bool:
    """Whether every path the expressions read over records of `entity` runs through collections to
    stored fields only — no reference to another record (a context compares it by key and reads on
    through it; an org unit or a user is stored as its name), no `subject`, alerts, bank-wide figures
    or `$` entries — so plain dicts of the loaded rows answer them as record contexts would."""
    for e in exprs:
        if e is None:
            continue
        if any(str(n).startswith("$") for n in getattr(e, "names", ()) or ()):
            return False
        for path in getattr(e, "paths", ()) or ():
            ent = live.entity(entity)
            for i, step in enumerate(path):
                collection = next((c for c in ent.collections if c.name == step), None)
                if collection is not None:
                    ent = live.entity(collection.entity)
                    continue
                f = ent.field(step)
                if f is None:
                    return False
                if f.type_name == "ref" and (i < len(path) - 1 or f.ref not in ("org_unit", "user")):
                    return False            # a record reference: its context compares by key and reads on
                break
    return True


def plain_record(loader: Loader, entity: str, row: Mapping[str, Any], tree: Mapping[str, Any]) -> dict[str, Any]:
    """`row` with the collections `tree` names filled in from the loader's primed children, as
    plain dicts all the way down (fields as stored: a reference is its id)."""
    out = dict(row)
    _refs, collections, _empty, _names = loader.meta(entity)
    for name, below in tree.items():
        c = collections.get(name)
        if c is not None:
            out[name] = [plain_record(loader, c.entity, r, below) for r in loader.children(c.entity, c.via, row["id"])]
    return out


def fields_of(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """The stored values of a record context, or a plain record as it is."""
    return record.values if isinstance(record, RecordContext) else record
