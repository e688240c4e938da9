"""The steps of many alerts written at once (a scan's batch, a change's subjects): the alerts a
reopen supersedes closed in one statement, the new alerts inserted in one (their ids returned in
order), the moved ones updated in one statement per kind of change, and every timeline event and
audit entry handed to `Steps` in the order `store.write_step` gives them one alert at a time —
the same rows, in far fewer round trips."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.alerts import Step
from runtime.alerts.store import Steps, Stored
from runtime.alerts.tables import OPEN, alerts
from runtime.flows.store import db_time, dumps

_MOVES = ("raise", "lower", "refresh", "resume")


@dataclass
class Pending:
    """One alert's step, decided and not yet written."""
    step: Step
    rule: str
    entity: str
    subject_id: int
    subject_key: Any
    stored: Stored | None
    message: dict[str, str]
    evidence: str
    errors: list


def write_steps(conn: Connection, pending: Sequence[Pending], *, version: int, at: datetime, actor: str,
                steps: Steps) -> list[int]:
    """Write every step of `pending` (each changes something); returns each alert's id, in order.
    The timeline events and audit entries wait in `steps` for its `flush`."""
    now: Any = db_time(at)
    ids: list[int] = [0] * len(pending)
    superseded = [p.stored.id for p in pending if p.step.kind in ("open", "reopen") and p.stored is not None]
    if superseded:                             # reopen: the open alert makes way for the new one
        conn.execute(alerts.update().where(alerts.c.id == sa.bindparam("alert_id")).values(
            status="closed", closed_at=now, closed_by=actor, close_reason="superseded", updated_at=now),
            [{"alert_id": i} for i in superseded])
    new = [n for n, p in enumerate(pending) if p.step.kind in ("open", "reopen")]
    if new:
        rows = [_new_row(pending[n], version, now) for n in new]
        found = list(conn.execute(alerts.insert().returning(alerts.c.id, sort_by_parameter_order=True),
                                  rows).scalars())
        for n, alert_id in zip(new, found):
            ids[n] = alert_id
    changed: dict[tuple[str, ...], list[dict]] = {}
    for n, p in enumerate(pending):
        if p.step.kind in ("open", "reopen"):
            continue
        stored = p.stored
        if stored is None:                     # every other step moves an open alert
            raise ValueError(f"step `{p.step.kind}` needs the subject's open alert")
        ids[n] = stored.id
        values = _moved_values(p, version, now, at, actor)
        changed.setdefault(tuple(sorted(values)), []).append({"alert_id": stored.id, **values})
    for names, rows in changed.items():
        conn.execute(alerts.update().where(alerts.c.id == sa.bindparam("alert_id"))
                     .values({n: sa.bindparam(n) for n in names}), rows)
    for n, p in enumerate(pending):
        _timeline(steps, p, ids[n], at, actor)
    return ids


def _new_row(p: Pending, version: int, now: datetime) -> dict[str, Any]:
    return {"rule": p.rule, "subject_entity": p.entity, "subject_id": p.subject_id,
            "subject_key": None if p.subject_key is None else str(p.subject_key), "grade": p.step.grade,
            "status": OPEN, "message": json.dumps(p.message, ensure_ascii=False), "evidence": p.evidence,
            "errors": dumps(p.errors) if p.errors else None, "deployment_version": version, "opened_at": now,
            "updated_at": now, "due_at": db_time(p.step.due_at)}


def _moved_values(p: Pending, version: int, now: datetime, at: datetime, actor: str) -> dict[str, Any]:
    step = p.step
    values: dict[str, Any] = {"updated_at": now, "grade": step.grade, "due_at": db_time(step.due_at),
                              "cleared_at": db_time(step.cleared_at), "deployment_version": version}
    if step.kind in _MOVES:
        values.update(message=json.dumps(p.message, ensure_ascii=False), evidence=p.evidence,
                      errors=dumps(p.errors) if p.errors else None)
    if step.kind == "lift":
        values.update(status="lifted", closed_at=now, closed_by=actor,
                      close_reason="quiet period over" if step.cleared_at != at else "condition no longer holds")
    return values


def _timeline(steps: Steps, p: Pending, alert_id: int, at: datetime, actor: str) -> None:
    """The events and the audit entry of one step, as `store.write_step` writes them."""
    step, subject = p.step, [p.entity, p.subject_key]
    if step.kind in ("open", "reopen"):
        if p.stored is not None:
            steps.event(p.stored.id, at, "superseded", p.stored.grade, actor)
        steps.event(alert_id, at, "open", step.grade, actor, {"evidence": json.loads(p.evidence)})
        steps.audit(actor, alert_id, {"alert": alert_id, "rule": p.rule, "subject": subject, "step": "open",
                                      "grade": step.grade})
        return
    data = {"evidence": json.loads(p.evidence)} if step.kind in _MOVES else None
    steps.event(alert_id, at, step.kind, step.grade, actor, data)
    steps.audit(actor, alert_id, {"alert": alert_id, "rule": p.rule, "subject": subject, "step": step.kind,
                                  "grade": step.grade, "was": None if p.stored is None else p.stored.grade})
