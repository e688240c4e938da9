"""Carrying out an engine result's effects inside the command's transaction.

Tasks (and their candidates) keep the inbox's tables in step with the state; timers become due
rows for the worker; notifications and webhooks become outbox rows (delivered later, once);
CC adds the people to the instance's followers. Effects that touch other instances (subflows,
independent flows, the end of a subflow) are handed back to the service as follow-ups, which it
runs in the same transaction."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from engine.flow import (CancelSubflow, ClearTimer, CloseTask, CreateTask, Finished, Notify, SetTimer, StartFlow,
                         StartSubflow, UpdateTask, Webhook)

from runtime.storage.prepared import Prepared
from runtime.flows.store import db_time, dumps
from runtime.flows.tables import ccs, outbox, task_candidates, tasks, timers

DEFAULT_CHANNELS = ("in_app",)
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
_OUTBOX = Prepared(outbox.insert(), ["instance_id", "channel", "recipient", "template", "payload", "created_at",
                                     "attempts"])
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
                  now: datetime, directory: Any) -> list[Any]:
    """Write the effects' rows; return the follow-ups (subflows, flows to start, the end)."""
    at = db_time(now)
    follow: list[Any] = []
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
            w.add(_OUTBOX, _notify(w, instance_id, e, actor, at, directory))
        elif isinstance(e, Webhook):
            w.add(_OUTBOX, [_row(instance_id, e.channel, None, e.template, {"flow": flow, "by": actor}, at)])
        elif isinstance(e, FOLLOW_UPS):
            follow.append(e)
    w.flush(conn)
    return follow


def _candidates(task_id: str, users: Iterable[str]) -> list[dict]:
    return [{"task_id": task_id, "user_name": u} for u in dict.fromkeys(users)]


def _notify(w: _Writes, instance_id: str, e: Notify, actor: str, at: datetime, directory: Any) -> list[dict]:
    users = list(dict.fromkeys(e.users))
    for role in e.roles:
        users += [u for u in directory.holders(role, None) if u not in users]
    if e.template == "cc":
        w.add(_CC, [{"instance_id": instance_id, "user_name": u, "node": e.node, "task": e.task, "by": actor, "at": at}
                    for u in users])
    payload = {"node": e.node, "task": e.task, "message": e.message, "by": actor}
    return [_row(instance_id, ch, u, e.template, payload, at) for u in users
            for ch in (e.channels or DEFAULT_CHANNELS)]


def _row(instance_id: str, channel: str, recipient: str | None, template: str, payload: dict,
         at: datetime) -> dict:
    return {"instance_id": instance_id, "channel": channel, "recipient": recipient, "template": template,
            "payload": dumps(payload), "created_at": at, "attempts": 0}

