"""Reading and writing alerts in a caller's transaction: the open alerts of some subjects, and
each lifecycle step written with its timeline event and its audit entry."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dsl.errors import BanyanError
from engine.alerts import Current, Step
from runtime.alerts.tables import OPEN, alert_errors, alert_events, alerts
from runtime.audit import log as audit
from runtime.flows.store import db_time, dumps, from_db
from runtime.jobs import changes

ALERT_ENTITY = "alert"


class AlertError(BanyanError):
    """A refused alert request (an unknown rule, an alert that is not there or not open …); its
    words are the catalogue's `alerts.<code>`."""
    code, status, namespace = "invalid", 422, "alerts"


@dataclass
class Stored:
    """An open alert as read for a new evaluation."""
    id: int
    grade: str
    due_at: datetime | None
    cleared_at: datetime | None
    evidence: str

    @property
    def current(self) -> Current:
        return Current(self.grade, from_db(self.due_at), from_db(self.cleared_at))


def open_alerts(conn: Connection, rules: Iterable[str], entity: str, ids: list[int]) -> dict[tuple[str, int], Stored]:
    """{(rule, subject id): its open alert} for the subjects `ids` of `entity` (in chunks)."""
    rules = list(rules)
    out: dict[tuple[str, int], Stored] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        q = (sa.select(alerts.c.id, alerts.c.rule, alerts.c.subject_id, alerts.c.grade, alerts.c.due_at,
                       alerts.c.cleared_at, alerts.c.evidence)
             .where(alerts.c.status == OPEN, alerts.c.subject_entity == entity, alerts.c.rule.in_(rules),
                    alerts.c.subject_id.in_(chunk)))
        for r in conn.execute(q):
            out[(r.rule, r.subject_id)] = Stored(r.id, r.grade, r.due_at, r.cleared_at, r.evidence)
    return out


def evidence_text(evidence: Iterable[tuple[Any, Any]], types: Iterable[str | None] = ()) -> str:
    """The evidence as stored: [{label: {zh, en}, value, type}] (values JSON-ready: money as exact
    text; `type` the expression's type — money, percent … — so a page shows 106% and 6,234万)."""
    kinds = list(types)
    return dumps([{"label": {"zh": label.zh, "en": label.en}, "value": value,
                   **({"type": kinds[i]} if i < len(kinds) and kinds[i] else {})}
                  for i, (label, value) in enumerate(evidence)])


# An alert's steps on the change feed (entity `alert`): what opens one is a create, what ends one a
# delete, a grade moved up or down an update of `grade`; record_key says whose it is, `entity/key`.
# Tiering hears them (`on: [alert.opened, alert.closed]`: a red alert caps a group).
FEED_OPS = {"open": "create", "reopen": "create", "raise": "update", "lower": "update", "lift": "delete",
            "close": "delete", "subject_deleted": "delete"}


def feed_alert_steps(conn: Connection, moved: list[tuple[str, int, Any]], actor: str, version: int | None) -> None:
    """Append (step kind, alert id, [entity, key]) of alerts that moved to the change feed."""
    by_op: dict[str, list[tuple[int, str, tuple[str, ...]]]] = {}
    for kind, alert_id, subject in moved:
        op = FEED_OPS.get(kind)
        if op is not None and subject:
            by_op.setdefault(op, []).append((alert_id, f"{subject[0]}/{subject[1]}", ("grade",)))
    for op, rows in by_op.items():
        changes.append(conn, ALERT_ENTITY, op, rows, actor=actor, version=version)


class Steps:
    """The timeline events and audit entries of many steps in one transaction, written together
    by `flush` (one insert and one chaining of the audit log instead of one per alert), and the
    steps that open, move or end an alert on the change feed. Flush before anything else writes to
    the timeline or the audit log, so their order stays the order things happened in."""

    def __init__(self, conn: Connection, version: int | None):
        self.conn, self.version = conn, version
        self.events: list[dict] = []
        self.entries: list[Any] = []
        self.moved: list[tuple[str, int, Any]] = []
        self.actor = "system"

    def event(self, alert_id: int, at: datetime, kind: str, grade: str | None, actor: str,
              data: dict | None = None) -> None:
        self.events.append({"alert_id": alert_id, "at": db_time(at), "kind": kind, "grade": grade, "actor": actor,
                            "data": None if data is None else dumps(data)})

    def audit(self, actor: str, alert_id: int, what: dict) -> None:
        self.entries.append(audit.AuditEntry(actor, "alert", "alert", alert_id, None, dumps(what)))
        if what.get("step") in FEED_OPS:
            self.moved.append((what["step"], alert_id, what.get("subject")))
            self.actor = actor

    def flush(self) -> None:
        if self.events:
            self.conn.execute(alert_events.insert(), self.events)
            self.events = []
        if self.entries:
            audit.append(self.conn, self.entries, self.version)
            self.entries = []
        if self.moved:
            feed_alert_steps(self.conn, self.moved, self.actor, self.version)
            self.moved = []


def write_step(conn: Connection, step: Step, *, rule: str, entity: str, subject_id: int, subject_key: Any,
               stored: Stored | None, message: dict[str, str], evidence: str, errors: list, version: int,
               at: datetime, actor: str = "system", steps: Steps | None = None) -> int | None:
    """Write `step` for the subject's alert under `rule`; returns the alert's id (None: no step).
    With `steps`, its timeline event and audit entry wait there for the batch's `flush`."""
    if not step.changes:
        return None if stored is None else stored.id
    own = steps is None
    steps = Steps(conn, version) if steps is None else steps
    _event, _audit = steps.event, steps.audit
    now = db_time(at)
    errors_text = dumps(errors) if errors else None
    if step.kind in ("open", "reopen"):
        if stored is not None:                 # reopen: the open alert makes way for the new one
            conn.execute(alerts.update().where(alerts.c.id == stored.id).values(
                status="closed", closed_at=now, closed_by=actor, close_reason="superseded", updated_at=now))
            _event(stored.id, at, "superseded", stored.grade, actor)
        alert_id = conn.execute(alerts.insert().values(
            rule=rule, subject_entity=entity, subject_id=subject_id,
            subject_key=None if subject_key is None else str(subject_key), grade=step.grade, status=OPEN,
            message=json.dumps(message, ensure_ascii=False), evidence=evidence, errors=errors_text,
            deployment_version=version, opened_at=now, updated_at=now, due_at=db_time(step.due_at))
        ).inserted_primary_key[0]
        _event(alert_id, at, "open", step.grade, actor, {"evidence": json.loads(evidence)})
        _audit(actor, alert_id, {"alert": alert_id, "rule": rule, "subject": [entity, subject_key],
                                 "step": "open", "grade": step.grade})
        if own:
            steps.flush()
        return alert_id
    if stored is None:                         # every other step moves an open alert
        raise ValueError(f"step `{step.kind}` needs the subject's open alert")
    values: dict[str, Any] = {"updated_at": now, "grade": step.grade, "due_at": db_time(step.due_at),
                              "cleared_at": db_time(step.cleared_at), "deployment_version": version}
    if step.kind in ("raise", "lower", "refresh", "resume"):
        values.update(message=json.dumps(message, ensure_ascii=False), evidence=evidence, errors=errors_text)
    if step.kind == "lift":
        values.update(status="lifted", closed_at=now, closed_by=actor,
                      close_reason="quiet period over" if step.cleared_at != at else "condition no longer holds")
    conn.execute(alerts.update().where(alerts.c.id == stored.id).values(**values))
    data = {"evidence": json.loads(evidence)} if step.kind in ("raise", "lower", "refresh", "resume") else None
    _event(stored.id, at, step.kind, step.grade, actor, data)
    _audit(actor, stored.id, {"alert": stored.id, "rule": rule, "subject": [entity, subject_key],
                              "step": step.kind, "grade": step.grade, "was": stored.grade})
    if own:
        steps.flush()
    return stored.id


def close_gone(conn: Connection, stored: Stored, rule: str, entity: str, subject_id: int, at: datetime,
               version: int, actor: str = "system") -> None:
    """An open alert whose subject was deleted is closed, saying so."""
    now = db_time(at)
    conn.execute(alerts.update().where(alerts.c.id == stored.id).values(
        status="closed", closed_at=now, closed_by=actor, close_reason="the record was deleted", updated_at=now))
    steps = Steps(conn, version)
    steps.event(stored.id, at, "subject_deleted", stored.grade, actor)
    steps.audit(actor, stored.id, {"alert": stored.id, "rule": rule, "subject": [entity, subject_id],
                                   "step": "subject_deleted"})
    steps.flush()


def keep_errors(conn: Connection, rules: list[str], entity: str, ids: list[int],
                found: list[dict], at: datetime) -> None:
    """The evaluation errors of `rules` over the subjects `ids` are now `found` (rule, subject id,
    subject key, errors): the old ones of these subjects go, one delete and one insert per batch."""
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        conn.execute(alert_errors.delete().where(alert_errors.c.rule.in_(rules), alert_errors.c.subject_entity == entity,
                                                 alert_errors.c.subject_id.in_(chunk)))
    if found:
        conn.execute(alert_errors.insert(), [{"rule": f["rule"], "subject_entity": entity, "subject_id": f["id"],
                                              "subject_key": f["key"], "errors": dumps(f["errors"]), "at": db_time(at)}
                                             for f in found])
