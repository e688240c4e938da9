"""Guarantee circles as alert subjects (`scope: guarantee_circle`): firms guaranteeing one another
round a loop (担保圈), as the graph room finds them among the companies' guarantees (`$graph`,
asked through the records loader, so this room never imports the graph room).

A circle has no record of its own. Its subject id is the record id of its member with the lowest
id (the anchor), its key `GC` and that id, and its name says its size, never a member's name: the
circle's message and key reach people who may read only some of its members. A circle that
breaks up or changes anchor is a subject that is gone (its alert closes, `subject_deleted`); the
new one opens its own.

Who sees a circle's alert: everyone who may read one of its members (`banyan_alert_circle_members`,
kept at each evaluation, is what the alert list's scope condition reads); the alert page names the
members the reader may read and counts the others (`members_seen`), as the graph answers are cut.
Its `notify` actions reach the holders of the roles nearest each member: the circle's lenders' people."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dsl.link import CIRCLE, CIRCLE_FIRM
from runtime.alerts.tables import circle_members
from runtime.records.context import Loader, RecordContext

FIRM = CIRCLE_FIRM                   # the members are companies (dsl/link.py)
CHUNK = 500


@dataclass(frozen=True)
class Circle:
    anchor: int                          # the member with the lowest record id
    members: tuple[int, ...]             # company record ids, ascending
    groups: int                          # how many groups its members belong to

    def row(self) -> dict[str, Any]:
        key = f"GC{self.anchor}"
        return {"id": self.anchor, "key": key, "name": f"担保圈 {key}（{len(self.members)} 家企业）",
                "size": len(self.members), "groups": self.groups, "spans_groups": self.groups > 1}


class CircleContext(RecordContext):
    """A circle as expressions read it: `key`, `name`, `size`, `groups`, `spans_groups`, and
    `members` (the companies, each a record with its fields, collections and `alerts`)."""

    __slots__ = ()

    def __init__(self, row: Mapping[str, Any], members: list[RecordContext], loader: Loader):
        self.entity, self.values, self.loader, self.id = CIRCLE, {**row, "members": members}, loader, row["id"]
        self._refs, self._collections, self._cache = {}, {}, {}


def _graph(loader: Loader) -> Any:
    return loader.context_value("$graph")


def _ids_of(conn: Connection, live: Any, keys: Iterable[str]) -> dict[str, int]:
    """Company key → record id."""
    t, key = live.table(FIRM), live.model[FIRM].key
    keys, out = sorted(set(keys)), {}
    for start in range(0, len(keys), CHUNK):
        out.update({str(k): i for k, i in conn.execute(sa.select(t.c[key], t.c.id)
                                                        .where(t.c[key].in_(keys[start:start + CHUNK])))})
    return out


def _keys_of(conn: Connection, live: Any, ids: Iterable[int]) -> dict[int, str]:
    t, key = live.table(FIRM), live.model[FIRM].key
    ids, out = sorted(set(ids)), {}
    for start in range(0, len(ids), CHUNK):
        out.update({i: str(k) for i, k in conn.execute(sa.select(t.c.id, t.c[key])
                                                        .where(t.c.id.in_(ids[start:start + CHUNK])))})
    return out


def _circles(conn: Connection, live: Any, loader: Loader, found: Iterable[Iterable[str]]) -> dict[int, Circle]:
    graph = _graph(loader)
    group_of = graph.group_of
    found = [tuple(c) for c in found if len(tuple(c)) > 1]
    ids = _ids_of(conn, live, (k for c in found for k in c))
    out: dict[int, Circle] = {}
    for members in found:
        known = sorted(ids[k] for k in members if k in ids)
        if len(known) > 1:
            out[known[0]] = Circle(known[0], tuple(known), len({group_of.get(k) for k in members} - {None}))
    return out


def all_circles(conn: Connection, live: Any, loader: Loader) -> dict[int, Circle]:
    """Every circle of the bank today, by anchor."""
    return _circles(conn, live, loader, _graph(loader).guarantees.circles())


def circles_of(conn: Connection, live: Any, loader: Loader, firm_ids: Iterable[int]) -> dict[int, Circle]:
    """The circles the companies `firm_ids` are in, by anchor."""
    guarantees = _graph(loader).guarantees
    seen: set[frozenset] = set()
    for key in _keys_of(conn, live, firm_ids).values():
        if key in guarantees:
            circle = guarantees.circle_of(key)
            if circle:
                seen.add(circle)
    return _circles(conn, live, loader, seen)


def subjects(conn: Connection, live: Any, loader: Loader, anchors: list[int]) -> dict[int, Circle]:
    """The circles whose anchors are `anchors` (an anchor no longer anchoring a circle is absent)."""
    return {a: c for a, c in circles_of(conn, live, loader, anchors).items() if a in set(anchors)}


def contexts(loader: Loader, circles: Mapping[int, Circle]) -> dict[int, CircleContext]:
    """Each circle for its rules, its members loaded in one query."""
    members = loader.rows(FIRM, sorted({m for c in circles.values() for m in c.members}))
    return {a: CircleContext(c.row(), [RecordContext(FIRM, members[m], loader, m) for m in c.members
                                       if m in members], loader) for a, c in circles.items()}


def keep_members(conn: Connection, circles: Mapping[int, Circle], anchors: Iterable[int]) -> None:
    """Record who is in each evaluated circle (the alert list's scope reads it)."""
    anchors = sorted(set(anchors))
    for start in range(0, len(anchors), CHUNK):
        conn.execute(circle_members.delete().where(circle_members.c.anchor_id.in_(anchors[start:start + CHUNK])))
    rows = [{"anchor_id": a, "member_id": m} for a in anchors if a in circles for m in circles[a].members]
    if rows:
        conn.execute(circle_members.insert(), rows)


def readable_condition(live: Any, readable: list[Any]) -> Any:
    """Alerts on circles with a member the reader may read (`readable`: the records room's
    conditions on the company table; none: every company)."""
    t = live.table(FIRM)
    members = sa.select(circle_members.c.anchor_id)
    if readable:
        members = members.where(circle_members.c.member_id.in_(sa.select(t.c.id).where(*readable)))
    return members


def member_ids(conn: Connection, anchor: int) -> list[int]:
    return list(conn.execute(sa.select(circle_members.c.member_id).where(circle_members.c.anchor_id == anchor)
                             .order_by(circle_members.c.member_id)).scalars())
