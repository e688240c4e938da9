"""Carrying out an engine result's effects inside the command's transaction.

Tasks (and their candidates) keep the inbox's tables in step with the state; timers become due
rows for the worker; notifications and webhooks become outbox rows (delivered later, once);
CC adds the people to the instance's followers; a `record` action's write goes through the
records service (runtime/flows/booking.py), after the flow's own rows, in the same transaction.
Effects that touch other instances (subflows, independent flows, the end of a subflow) are handed
back to the service as follow-ups, which it runs in the same transaction.

Messages go into the jobs room's one outbox (source `flow:<instance>`), carrying the variables
the Channel templates use: `flow` (name, label, instance, initiator, outcome, status), `subject`
(entity, key, name), `task` (id, node, label, deadline, assignee), `message`, `by` and `link`."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from dsl.kinds.channel import DEFAULT_CHANNEL
from engine.flow import (
    CancelSubflow,
    ClearTimer,
    CloseTask,
    CreateTask,
    Finished,
    Notify,
    SetTimer,
    StartFlow,
    StartSubflow,
    UpdateTask,
    Webhook,
)
from engine.flow.record_write import RecordWrite
from runtime.flows.booking import write_record
from runtime.flows.store import db_time
from runtime.flows.tables import ccs, task_candidates, tasks, timers
from runtime.jobs.outbox import message_row
from runtime.jobs.outbox_tables import outbox
from runtime.records.service import Records
from runtime.storage.prepared import Prepared

DEFAULT_CHANNELS = (DEFAULT_CHANNEL,)
_TASK_NEW = Prepared(tasks.insert(), ["id", "instance_id", "flow", "node", "assignee", "owner", "held", "status",
                                      "due_at", "created_at"])
_TASK_UPDATE = Prepared(tasks.update().where(tasks.c.id == sa.bindparam("k_id")).values(
    assignee=sa.bindparam("assignee"), owner=sa.bindparam("owner"), held=sa.bindparam("held")))
_TASK_CLOSE = Prepared(tasks.update().where(tasks.c.id == sa.bindparam("k_id")).values(
    status=sa.bindparam("status"), close_reason=sa.bindparam("close_reason"), closed_at=sa.bindparam("closed_at"),
    closed_by=sa.bindparam("closed_by")))
_CANDIDATES = Prepared(task_candidates.insert(), ["task_id", "user_name"])
_CANDIDATES_CLEAR = Prepared(task_candidates.delete().where(task_candidates.c.task_id == sa.bindparam("k_task")))
_TIMER_NEW = Prepared(timers.insert(), ["instance_id", "timer", "kind", "due_at"])
_TIMER_CLEAR = Prepared(timers.delete().where(timers.c.instance_id == sa.bindparam("k_instance"),
                                              timers.c.timer == sa.bindparam("k_timer")))
_OUTBOX = Prepared(outbox.insert(), ["message_id", "channel", "recipient", "kind", "language", "payload", "source",
                                     "created_at", "due_at", "attempts"])
_CC = Prepared(ccs.insert(), ["instance_id", "user_name", "node", "task", "by", "at"])
FOLLOW_UPS = (StartSubflow, StartFlow, CancelSubflow, Finished)


class _Writes:
    """Rows to write, kept in order per table; consecutive rows for the same statement go out
    as one executemany. The flow tables have no foreign keys between them, so only the order
    within a table matters (a timer cleared then set again, a task's candidates replaced)."""

    def __init__(self) -> None:
        self.tables: dict[str, list[tuple[Prepared, list[dict]]]] = {}

    def add(self, statement: Prepared, rows: list[dict]) -> None:
        if not rows:
            return
        queue = self.tables.setdefault(statement.stmt.table.name, [])
        if queue and queue[-1][0] is statement:
            queue[-1][1].extend(rows)
        else:
            queue.append((statement, list(rows)))

    def flush(self, conn: Connection) -> None:
        for queue in self.tables.values():
            for statement, rows in queue:
                statement.many(conn, rows)


def write_effects(conn: Connection, instance_id: str, flow: str, effects: Iterable[Any], actor: str,
                  now: datetime, directory: Any, *, compiled: Any = None, state: Any = None,
                  subject: Any = None) -> list[Any]:
    """Write the effects' rows; return the follow-ups (subflows, flows to start, the end).
    `compiled`, `state` and `subject` (the flow, the instance after the command, its subject
    record) fill the messages' template variables."""
    at = db_time(now)
    about = _About(instance_id, flow, compiled, state, subject, actor)
    follow: list[Any] = []
    writes: list[RecordWrite] = []
    w = _Writes()
    for e in effects:
        if isinstance(e, CreateTask):
            w.add(_TASK_NEW, [{"id": e.task, "instance_id": instance_id, "flow": flow, "node": e.node,
                               "assignee": e.assignee, "owner": None, "held": e.held, "status": "open",
                               "due_at": db_time(e.due), "created_at": at}])
            w.add(_CANDIDATES, _candidates(e.task, e.candidates))
        elif isinstance(e, UpdateTask):
            w.add(_TASK_UPDATE, [{"k_id": e.task, "assignee": e.assignee, "owner": e.owner, "held": e.held}])
            w.add(_CANDIDATES_CLEAR, [{"k_task": e.task}])
            w.add(_CANDIDATES, _candidates(e.task, e.candidates))
        elif isinstance(e, CloseTask):
            done = e.reason == "done"
            w.add(_TASK_CLOSE, [{"k_id": e.task, "status": "done" if done else "cancelled",
                                 "close_reason": e.reason, "closed_at": at, "closed_by": actor if done else None}])
        elif isinstance(e, SetTimer):
            w.add(_TIMER_NEW, [{"instance_id": instance_id, "timer": e.timer, "kind": e.kind,
                                "due_at": db_time(e.at)}])
        elif isinstance(e, ClearTimer):
            w.add(_TIMER_CLEAR, [{"k_instance": instance_id, "k_timer": e.timer}])
        elif isinstance(e, Notify):
            w.add(_OUTBOX, _notify(w, instance_id, e, actor, now, directory, about))
        elif isinstance(e, Webhook):
            w.add(_OUTBOX, [message_row(e.channel, None, e.template, about.payload(None), now, about.source)])
        elif isinstance(e, RecordWrite):
            writes.append(e)
        elif isinstance(e, FOLLOW_UPS):
            follow.append(e)
    w.flush(conn)
    for e in writes:
        write_record(conn, _live(conn, subject), e, instance_id=instance_id, flow=flow,
                     initiator=getattr(state, "initiator", "") or actor)
    return follow


def _live(conn: Connection, subject: Any) -> Any:
    """The live model the subject was read with (else the current one)."""
    loader = getattr(subject, "loader", None)
    if loader is not None:
        return loader.live
    return Records(conn.engine).refresh()


def _candidates(task_id: str, users: Iterable[str]) -> list[dict]:
    return [{"task_id": task_id, "user_name": u} for u in dict.fromkeys(users)]


def _notify(w: _Writes, instance_id: str, e: Notify, actor: str, now: datetime, directory: Any,
            about: "_About") -> list[dict]:
    users = list(dict.fromkeys(e.users))
    for role in e.roles:
        users += [u for u in directory.holders(role, None) if u not in users]
    if e.template == "cc":
        at = db_time(now)
        w.add(_CC, [{"instance_id": instance_id, "user_name": u, "node": e.node, "task": e.task, "by": actor, "at": at}
                    for u in users])
    payload = about.payload(e)
    return [message_row(ch, u, e.template, payload, now, about.source) for u in users
            for ch in (e.channels or DEFAULT_CHANNELS)]


class _About:
    """The template variables of one command's messages (computed once, shared by its messages)."""

    def __init__(self, instance_id: str, flow: str, compiled: Any, state: Any, subject: Any, actor: str):
        self.instance_id, self.flow, self.compiled, self.state, self.subject, self.actor = \
            instance_id, flow, compiled, state, subject, actor
        self.source = f"flow:{instance_id}"
        self._base: dict | None = None
        self._nodes: dict | None = None

    def base(self) -> dict:
        if self._base is None:
            meta = getattr(self.compiled, "meta", None)
            label = {"zh": meta.label.zh or self.flow, "en": meta.label.en or meta.label.zh or self.flow} \
                if meta is not None else self.flow
            st = self.state
            self._base = {
                "flow": {"name": self.flow, "label": label, "instance": self.instance_id,
                         "initiator": getattr(st, "initiator", ""), "outcome": getattr(st, "outcome", None) or "",
                         "status": getattr(st, "status", "")},
                "subject": _subject(self.subject), "by": self.actor}
        return self._base

    def payload(self, e: Notify | None) -> dict:
        node, task = (e.node, e.task) if e is not None else (None, None)
        return {**self.base(), "task": self._task(node, task), "message": (e.message if e is not None else None) or "",
                "link": f"/ui/tasks/{task}" if task else f"/ui/flow-instances/{self.instance_id}"}

    def _task(self, node: str | None, task_id: str | None) -> dict:
        if self._nodes is None:
            self._nodes = dict(getattr(self.compiled, "by_id", None) or {})
        n = self._nodes.get(node) if node else None
        label = {"zh": n.label.zh or node, "en": n.label.en or n.label.zh or node} if n is not None else (node or "")
        t = self.state.tasks.get(task_id) if self.state is not None and task_id else None
        token = self.state.tokens.get(t.token) if t is not None else None
        due = getattr(token, "due", None)
        return {"id": task_id or "", "node": node or "", "label": label,
                "deadline": due.strftime("%Y-%m-%d %H:%M") if due is not None else "",
                "assignee": (t.assignee or "") if t is not None else ""}


def _subject(subject: Any) -> dict:
    """Entity, key and display name of the subject record (an empty one for a flow without)."""
    entity = getattr(subject, "entity", "")
    if not entity:
        return {"entity": "", "key": "", "name": ""}
    ent = subject.loader.live.entity(entity) if subject.loader is not None else None
    values = subject.values
    key = values.get(ent.key) if ent is not None and ent.key else values.get("id")
    name = values.get(ent.display) if ent is not None and ent.display else None
    return {"entity": entity, "key": "" if key is None else str(key), "name": str(name or key or "")}
