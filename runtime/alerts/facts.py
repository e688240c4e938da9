"""`$alerts` in the evaluation context: every record's open alerts, so rules read them as facts
(`worst_grade(core_enterprise.alerts) == 'red'`, `count(alerts) > 2`). Declared to the records room
through the `banyan.context` entry point (pyproject.toml), as the graph room's `$graph` is; a
record context's `alerts` asks it.

Read once per operation and entity: the open alerts of every record of that entity in one query
(open alerts are few beside the records), kept for the operation; an alert the same transaction
opened before the first read is in it. Each alert reads as {id, rule, label, grade, message,
evidence, opened_at, link} — `label` and `message` in the bank's language (zh).

`readers` finds, for the alert service's cascade, the subjects of a rule that read the alerts of
records whose alert just took a step."""
from __future__ import annotations

import json
from datetime import timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from runtime.alerts.tables import OPEN, alerts


class OpenAlerts:
    def __init__(self, loader: Any):
        self.loader = loader
        self._by_entity: dict[str, dict[int, list[dict]]] = {}

    def of(self, entity: str, record_id: int | None) -> list[dict]:
        """The open alerts of one record, worst first."""
        if record_id is None:
            return []
        found = self._by_entity.get(entity)
        if found is None:
            found = self._by_entity[entity] = self._load(entity)
        return found.get(record_id, [])

    def forget(self, entity: str) -> None:
        """Read `entity`'s alerts again at the next question (alerts were written since)."""
        self._by_entity.pop(entity, None)

    def _load(self, entity: str) -> dict[int, list[dict]]:
        live = self.loader.live
        labels = {n: d.meta.label for (k, n), d in live.bundle.documents.items() if k == "AlertRule"}
        out: dict[int, list[dict]] = {}
        q = sa.select(alerts.c.id, alerts.c.subject_id, alerts.c.rule, alerts.c.grade, alerts.c.message,
                      alerts.c.evidence, alerts.c.opened_at).where(alerts.c.status == OPEN,
                                                                  alerts.c.subject_entity == entity)
        for r in self.loader.conn.execute(q):
            label = labels.get(r.rule)
            message = json.loads(r.message)
            out.setdefault(r.subject_id, []).append({
                "id": r.id, "rule": r.rule, "grade": r.grade,
                "label": (label.zh or label.en or r.rule) if label is not None else r.rule,
                "message": message.get("zh") or message.get("en") or "", "evidence": r.evidence,
                "opened_at": r.opened_at.replace(tzinfo=timezone.utc) if r.opened_at.tzinfo is None else r.opened_at,
                "link": f"/ui/alerts/{r.id}"})
        rank = {"red": 0, "orange": 1, "yellow": 2}
        for found in out.values():
            found.sort(key=lambda a: (rank.get(a["grade"], 3), a["id"]))
        return out


def provide(loader: Any, name: str) -> OpenAlerts:
    return OpenAlerts(loader)


CASCADE = 3            # alerts reading alerts: how many steps one change may travel


def readers(conn: Connection, live: Any, rule: Any, entity: str, moved: list[int]) -> set[int]:
    """The subjects of `rule` that read the alerts of the `entity` records `moved`: through the
    paths its conditions read — `alerts` (itself), `ref.alerts`, `collection.ref.alerts`."""
    scope = live.bundle.entities.get(rule.scope)
    if scope is None:
        return set()
    out: set[int] = set()
    paths = {p for g in rule.grades if g.when is not None for p in g.when.paths}
    for p in paths:
        p = p[1:] if p and p[0] == "subject" else p
        if p == ("alerts",) and rule.scope == entity:
            out |= set(moved)
        elif len(p) == 2 and p[1] == "alerts":
            f = scope.field(p[0])
            if f is not None and f.type_name == "ref" and f.ref == entity:
                t = live.table(rule.scope)
                out |= set(_ids(conn, sa.select(t.c.id).where(t.c[p[0]].in_(moved))))
        elif len(p) == 3 and p[2] == "alerts":
            c = next((c for c in scope.collections if c.name == p[0]), None)
            member = live.bundle.entities.get(c.entity) if c is not None else None
            f = member.field(p[1]) if member is not None else None
            if f is not None and f.type_name == "ref" and f.ref == entity:
                t = live.table(c.entity)
                out |= set(_ids(conn, sa.select(t.c[c.via]).where(t.c[p[1]].in_(moved), t.c[c.via].is_not(None))))
    return out


def _ids(conn: Connection, q: Any) -> list[int]:
    return [r[0] for r in conn.execute(q)]
