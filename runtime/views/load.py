"""Reading what a view shows of one subject, cut to the reader's org scope, in a few set-based
queries: the subject (one), each collection the view's expressions read (one per collection and
500 parents, e.g. all members' loans at once), and one more per such read to keep only the records
the reader may read (runtime/auth/scope.py decides: `Placement.ids_within`). Never a query per
member. References shown in tables become names with one query per referenced entity."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.auth.scope import Scope, placement_of
from runtime.deploy.live import LiveModel
from runtime.records.context import Loader


class ScopedLoader(Loader):
    """A records loader for expressions that sees only what `scope` may read: a collection holds
    the readable records only (a serving branch, 协办行, sees the members it serves), a reference
    to a record outside the scope reads as no record. `scope` None or bank-wide: everything."""

    def __init__(self, conn: Connection, live: LiveModel, scope: Scope | None):
        super().__init__(conn, live)
        self.scope = scope
        self.placement = placement_of(live)
        self._allowed: dict[tuple[str, int], bool] = {}

    @property
    def cut(self) -> bool:
        return self.scope is not None and self.scope.units is not None

    def shaped(self, entity: str, found: Iterable[Mapping]) -> list[dict]:
        rows = super().shaped(entity, found)
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
