"""The records as they stood at a past moment, for a backtest: a record whose entity declares a
`time_field` (a statement's period end, an event's day, a loan's disbursement) is not there yet
when that time is after the moment, and every computed field that reads beyond its record's own
fields is worked out again from what is there (a company's debt ratio from the statements filed
by then, a group's totals from its members' loans then) with the entity's own compute rules —
those the evaluated expressions read (`needed`), when the caller says which. Fields changed in place (a loan's overdue days and
classification, a facility's status) read as they stood: the changes written since are undone
from the audit log's before-images (runtime/records/history.py, one query per entity for a whole
backtest), a record deleted since is there, one written since is not (before an entity's first
record was written, the records as first written stand for that time)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.records.context import Loader, RecordContext, _on_or_before
from runtime.records.history import EntityHistory, History, utc
from runtime.records.today_rows import Pair, TodayRows


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
    keep today's values, unread by what is evaluated. `history`: the changes in place since the
    first moment asked about (runtime/records/history.py), shared by the loaders of every moment
    of one backtest; without it, fields read as they are today. `today`: today's rows, read once
    for those loaders (runtime/records/today_rows.py); without it, each loader reads its own."""

    def __init__(self, conn: Connection, live: Any, at: datetime, rules_of: Callable[[str], Any],
                 wanted: dict[str, set[str]] | None = None, history: History | None = None,
                 today: TodayRows | None = None):
        super().__init__(conn, live)
        self.at, self.rules_of, self.wanted, self.history = at, rules_of, wanted, history
        self.today = today if today is not None else TodayRows(live, limit=0)
        self.given("$now", at)
        self._times: dict[str, str | None] = {}
        self._moved: dict[tuple[str, str], dict[int, dict]] = {}
        self._moving_of: dict[str, set[str]] = {}

    def _time_field(self, entity: str) -> str | None:
        if entity not in self._times:
            ent = self.live.bundle.entities.get(entity)
            self._times[entity] = getattr(ent, "time_field", None)
        return self._times[entity]

    def _changes(self, entity: str) -> EntityHistory | None:
        return None if self.history is None else self.history.of(self.conn, entity)

    def ids(self, entity: str) -> list[int]:
        """The ids of every record that may have been there at `at`: today's, and those deleted
        since (`rows` leaves out the ones not there yet)."""
        t = self.live.table(entity)
        out = list(self.conn.execute(sa.select(t.c.id).order_by(t.c.id)).scalars())
        changes = self._changes(entity)
        if changes is not None and changes.deleted:
            out = sorted(set(out) | changes.deleted)
        return out

    def _as_of(self, entity: str, pairs: Iterable[Pair]) -> list[dict]:
        """Today's rows (each with when it was written) as they stood at `at`: those not there
        yet left out, changes made since undone, computed fields worked out again — the
        collections they read loaded for all the rows at once. Rows are copied: today's are
        shared by every moment."""
        changes = self._changes(entity)
        if changes is None or changes.all_there(self.at):
            rows = [dict(row) for _, row in pairs]
        else:
            rows = [dict(row) for created, row in pairs if changes.there(utc(created), self.at)]
        if changes is not None and changes.steps:
            rows = [dict(image) if (image := changes.image(row["id"], self.at)) is not None else row for row in rows]
        return self._finish(entity, rows)

    def _finish(self, entity: str, rows: list[dict]) -> list[dict]:
        """Leave out the rows whose time is after `at`; work the wanted computed fields out again."""
        tf = self._time_field(entity)
        rows = [row for row in rows if tf is None or row.get(tf) is None or _on_or_before(row[tf], self.at)]
        rules = self.rules_of(entity)
        only = self._moving(entity, rules) & (self.wanted.get(entity, set()) if self.wanted is not None
                                               else {f.name for f in rules.computed})
        if rules.computed and rows and only:
            read = set().union(*(f.compute.names for f in rules.computed if f.name in only))
            ids = [row["id"] for row in rows]
            for c in self.live.entity(entity).collections:
                if c.name in read:
                    self.prime(c.entity, c.via, ids)
            for row in rows:
                rules.compute(row, RecordContext(entity, row, self, row["id"]), [], only=only)
        return rows

    def _moving(self, entity: str, rules: Any) -> set[str]:
        """The computed fields whose value at a past moment may differ from the one the row holds:
        those reading more than the record's own fields (its collections, references, the clock),
        or own computed fields that do. The others were worked out when the row (or the image)
        was written, from the very values it holds."""
        found = self._moving_of.get(entity)
        if found is None:
            own = {f.name: f for f in self.live.entity(entity).fields}
            moving: set[str] = set()
            for f in rules.computed:                # in dependency order
                c = f.compute
                if c.uses_now or not c.names <= set(own) or any(
                        len(p) > 1 or p[0] in moving or own[p[0]].ref for p in c.paths if p and p[0] in own):
                    moving.add(f.name)
            found = self._moving_of[entity] = moving
        return found

    def rows(self, entity: str, ids: list[int]) -> dict[int, dict]:
        """As `Loader.rows`, as they stood: and the records deleted since `at` that were there then."""
        todo = [i for i in ids if (entity, i) not in self._rows]
        for i in todo:
            self._rows[(entity, i)] = None
        if todo:
            for row in self._as_of(entity, self.today.by_id(self.conn, entity, todo)):
                self._rows[(entity, row["id"])] = row
            changes = self._changes(entity)
            if changes is not None and changes.deleted:
                gone = [i for i in todo if self._rows[(entity, i)] is None and i in changes.deleted
                        and changes.there(changes.created.get(i), self.at) and changes.image(i, self.at) is not None]
                for row in self._finish(entity, [dict(changes.image(i, self.at) or {}) for i in gone]):
                    self._rows[(entity, row["id"])] = row
        return {i: row for i in ids if (row := self._rows.get((entity, i))) is not None}

    def row(self, entity: str, id_: int) -> dict | None:
        if (entity, id_) not in self._rows:
            self.rows(entity, [id_])
        return self._rows[(entity, id_)]

    def prime(self, entity: str, via: str, parent_ids: list[int]) -> None:
        """The children of many parents as they stood at `at`: those that pointed at them then,
        which may not be those that point at them today."""
        moved = self._moved_by(entity, via)
        cache = self._children.setdefault((entity, via), {})
        todo = [i for i in parent_ids if i not in cache]
        if not todo:
            return
        for i in todo:
            cache[i] = []
        wanted = set(todo)
        for row in self._as_of(entity, self.today.by_ref(self.conn, entity, via, todo)):
            if row["id"] not in moved and row.get(via) in wanted:
                cache[row[via]].append(row)
        touched = set()
        for row in moved.values():
            if row.get(via) in wanted:
                cache[row[via]].append(row)
                touched.add(row[via])
        for parent in touched:
            cache[parent].sort(key=lambda r: r["id"])

    def _moved_by(self, entity: str, via: str) -> dict[int, dict]:
        """The records there at `at` whose `via` then differs from today's (or that were deleted
        since), as they stood: found by where they pointed then, not by today's column."""
        key = (entity, via)
        if key not in self._moved:
            changes = self._changes(entity)
            ids = [] if changes is None else [
                i for i in changes.changed(self.at)
                if i in changes.deleted or (changes.image(i, self.at) or {}).get(via) != changes.today(i, via)]
            self._moved[key] = {}
            if ids and changes is not None:
                images = [dict(changes.image(i, self.at) or {}) for i in ids]
                self._moved[key] = {row["id"]: row for row in self._finish(entity, images)}
        return self._moved[key]

    def bank_wide(self, entity: str) -> list | None:
        """As `Loader.bank_wide`, the records as they stood at `at`."""
        if entity in self._bank_wide:
            return self._bank_wide[entity]
        ent = self.live.bundle.entities.get(entity)
        if ent is None or not getattr(ent, "bank_wide", False):
            return None
        rows = self.rows(entity, self.ids(entity)).values()
        tf = ent.time_field
        out = self._bank_wide[entity] = [RecordContext(entity, r, self, r["id"]) for r in rows
                                         if not tf or r.get(tf) is not None]
        return out
