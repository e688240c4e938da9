"""Reading alerts: the alert centre's list and counts, each cut to the reader's org scope by the
one scope decision (runtime/auth/scope.py). A part of AlertService (service.py), which holds the
engine, the records service, the deployed rules and the clock these read."""
from __future__ import annotations

import json
from typing import Any, Callable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dsl.link import CIRCLE
from engine.alerts.lifecycle import GRADES
from runtime.alerts import circles
from runtime.alerts.store import AlertError
from runtime.alerts.tables import OPEN, alerts
from runtime.auth.scope import Scope, placement_of
from runtime.flows.store import db_time
from runtime.records.service import Records

ORDERS = ("newest", "due", "grade")


class AlertReading:
    engine: Engine
    records: Records
    clock: Callable[[], Any]

    # and `rules(live)`: the deployed AlertRules (AlertService.rules)

    def scope_conditions(self, scope: Scope | None) -> list[Any]:
        """Conditions on `alerts` keeping those on subjects `scope` may read (runtime/auth/scope.py:
        the one scope decision); none for the whole bank."""
        if scope is None or scope.bank_wide:
            return []
        live = self.records.refresh()
        placement = placement_of(live)
        parts = []
        subjects = set()                       # what alerts can be on: the rules' scopes and roll-up targets
        for r in self.rules(live):
            subjects.add(r.scope)
            if r.roll_up is not None and r.roll_up.entity:
                subjects.add(r.roll_up.entity)
        if CIRCLE in subjects and circles.FIRM in live.model:   # a circle: whoever may read one of its members
            parts.append(sa.and_(alerts.c.subject_entity == CIRCLE, alerts.c.subject_id.in_(
                circles.readable_condition(live, placement.readable(live, circles.FIRM, scope)))))
        for entity in sorted(e for e in subjects if e in live.model):
            conds = placement.readable(live, entity, scope)
            if not conds:
                parts.append(alerts.c.subject_entity == entity)
                continue
            t = live.table(entity)
            parts.append(sa.and_(alerts.c.subject_entity == entity,
                                 alerts.c.subject_id.in_(sa.select(t.c.id).where(*conds))))
        return [sa.or_(*parts)] if parts else [sa.false()]

    def list(self, *, rule: str | None = None, status: str | None = "open", grade: str | None = None,
             limit: int = 200, scope: Scope | None = None, subject: tuple[str, int] | None = None,
             overdue: bool = False, assigned_to: str | None = None, order: str = "newest",
             among: Sequence[str] | None = None, besides: Sequence[str] = (),
             member: int | None = None) -> list[dict]:
        """Alerts on subjects `scope` may read (on one `subject`, (entity, record id), when given;
        on the guarantee circles the company `member` (a record id) is in):
        `overdue` — open and past their answer time; `assigned_to` — handled by that person;
        `among` — of these rules only; `besides` — not of these rules.
        `order`: newest first, `due` (the soonest answer time first) or `grade` (red first)."""
        if order not in ORDERS:
            raise AlertError(f"alerts sort by {', '.join(ORDERS)}, not `{order}`", code="invalid")
        by = {"newest": [alerts.c.id.desc()],
              "due": [alerts.c.due_at.is_(None), alerts.c.due_at, alerts.c.id.desc()],
              "grade": [sa.case({"red": 0, "orange": 1, "yellow": 2}, value=alerts.c.grade, else_=3),
                        alerts.c.id.desc()]}[order]
        q = sa.select(alerts).where(*self.scope_conditions(scope)).order_by(*by).limit(limit)
        if overdue:
            q = q.where(alerts.c.status == OPEN, alerts.c.due_at < db_time(self.clock()))
        if assigned_to:
            q = q.where(alerts.c.assigned_to == assigned_to)
        if subject is not None:
            q = q.where(alerts.c.subject_entity == subject[0], alerts.c.subject_id == subject[1])
        if rule:
            q = q.where(alerts.c.rule == rule)
        if member is not None:
            q = q.where(alerts.c.subject_entity == CIRCLE, alerts.c.subject_id.in_(
                sa.select(circles.circle_members.c.anchor_id).where(circles.circle_members.c.member_id == member)))
        if among is not None:
            q = q.where(alerts.c.rule.in_(list(among)))
        if besides:
            q = q.where(alerts.c.rule.not_in(list(besides)))
        if status:
            q = q.where(alerts.c.status == status)
        if grade:
            q = q.where(alerts.c.grade == grade)
        with self.engine.connect() as conn:
            return [view_of(r) for r in conn.execute(q).mappings()]

    def count(self, *, status: str = "open", grade: str | None = None, scope: Scope | None = None,
              overdue: bool = False, assigned_to: str | None = None) -> int:
        """How many alerts (of `grade`, in `status`; past their answer time; handled by
        `assigned_to`) are on subjects `scope` may read."""
        q = sa.select(sa.func.count()).select_from(alerts).where(alerts.c.status == status, *self.scope_conditions(scope))
        if grade:
            q = q.where(alerts.c.grade == grade)
        if overdue:
            q = q.where(alerts.c.due_at < db_time(self.clock()))
        if assigned_to:
            q = q.where(alerts.c.assigned_to == assigned_to)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def open_counts(self, *, scope: Scope | None = None, assigned_to: str | None = None) -> dict[str, int]:
        """The open alerts on subjects `scope` may read, counted in one query: by grade (each grade
        of GRADES), `overdue` (past their answer time), `mine` (handled by `assigned_to`) and `total`."""
        now, due = db_time(self.clock()), alerts.c.due_at
        cols = [sa.func.count().label("total"),
                sa.func.sum(sa.case((due < now, 1), else_=0)).label("overdue"),
                *[sa.func.sum(sa.case((alerts.c.grade == g, 1), else_=0)).label(g) for g in GRADES]]
        if assigned_to:
            cols.append(sa.func.sum(sa.case((alerts.c.assigned_to == assigned_to, 1), else_=0)).label("mine"))
        q = sa.select(*cols).select_from(alerts).where(alerts.c.status == OPEN, *self.scope_conditions(scope))
        with self.engine.connect() as conn:
            row = conn.execute(q).mappings().one()
        return {k: int(v or 0) for k, v in row.items()}



def view_of(r: Any) -> dict:
    """An alert row as the doors show it."""
    return {"id": r["id"], "rule": r["rule"], "subject": {"entity": r["subject_entity"], "key": r["subject_key"]},
            "grade": r["grade"], "status": r["status"], "message": json.loads(r["message"]),
            "evidence": json.loads(r["evidence"]), "opened_at": r["opened_at"], "updated_at": r["updated_at"],
            "due_at": r["due_at"], "cleared_at": r["cleared_at"], "closed_at": r["closed_at"],
            "closed_by": r["closed_by"], "close_reason": r["close_reason"],
            "acknowledged_at": r["acknowledged_at"], "acknowledged_by": r["acknowledged_by"],
            "assigned_to": r["assigned_to"]}
