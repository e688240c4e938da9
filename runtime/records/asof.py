"""The records as they stood at a past moment, for a backtest: a record whose entity declares a
`time_field` (a statement's period end, an event's day, a loan's disbursement) is not there yet
when that time is after the moment, and every computed field is worked out again from what is
there (a company's debt ratio from the statements filed by then, a group's totals from its
members' loans then) with the entity's own compute rules — those the evaluated expressions read
(`needed`), when the caller says which. Fields changed in place (a loan's
overdue days, a facility's status) read as they are now: the audit log's earlier images are not
replayed yet."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable

from sqlalchemy.engine import Connection

from runtime.records.context import Loader, RecordContext, _on_or_before


def needed(live: Any, entity: str, paths: Iterable[tuple[str, ...]]) -> dict[str, set[str]]:
    """The computed fields, by entity, that expressions over `entity` reading `paths` depend on —
    through references, collections and the computed fields' own expressions."""
    out: dict[str, set[str]] = {}
    todo = [(entity, tuple(p)) for p in paths]
    seen: set = set()
    while todo:
        ent, path = todo.pop()
        if not path or (ent, path) in seen:
            continue
        seen.add((ent, path))
        decl = live.bundle.entities.get(ent)
        if decl is None:
            continue
        head, rest = path[0], path[1:]
        field = next((f for f in decl.fields if f.name == head), None)
        if field is not None:
            if field.compute is not None and head not in out.setdefault(ent, set()):
                out[ent].add(head)
                todo += [(ent, tuple(p)) for p in field.compute.paths]
            if field.ref and rest:
                todo.append((field.ref, rest))
            continue
        coll = next((c for c in decl.collections if c.name == head), None)
        if coll is not None and rest:
            todo.append((coll.entity, rest))
    return out


class AsOfLoader(Loader):
    """`wanted`: the computed fields to work out again, by entity (None: all of them); the others
    keep today's values, unread by what is evaluated."""

    def __init__(self, conn: Connection, live: Any, at: datetime, rules_of: Callable[[str], Any],
                 wanted: dict[str, set[str]] | None = None):
        super().__init__(conn, live)
        self.at, self.rules_of, self.wanted = at, rules_of, wanted
        self.given("$now", at)
        self._times: dict[str, str | None] = {}

    def _time_field(self, entity: str) -> str | None:
        if entity not in self._times:
            ent = self.live.bundle.entities.get(entity)
            self._times[entity] = getattr(ent, "time_field", None)
        return self._times[entity]

    def shaped(self, entity: str, found: Iterable[Any]) -> list[dict]:
        """Table rows as they stood at `at`: those not there yet left out, computed fields worked
        out again — the collections they read loaded for all the rows at once."""
        tf = self._time_field(entity)
        rows = [row for row in super().shaped(entity, found)
                if tf is None or row.get(tf) is None or _on_or_before(row[tf], self.at)]
        rules = self.rules_of(entity)
        only = None if self.wanted is None else self.wanted.get(entity, set())
        if rules.computed and rows and (only is None or only):
            read = set().union(*(f.compute.names for f in rules.computed if only is None or f.name in only))
            ids = [row["id"] for row in rows]
            for c in self.live.entity(entity).collections:
                if c.name in read:
                    self.prime(c.entity, c.via, ids)
            for row in rows:
                rules.compute(row, RecordContext(entity, row, self, row["id"]), [], only=only)
        return rows

    def row(self, entity: str, id_: int) -> dict | None:
        if (entity, id_) not in self._rows:
            self.rows(entity, [id_])
        return self._rows[(entity, id_)]
