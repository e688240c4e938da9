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

from .flow_store import db_time, dumps
from .flow_tables import ccs, outbox, task_candidates, tasks, timers

DEFAULT_CHANNELS = ("in_app",)
_TASK_NEW = tasks.insert()
_TASK_CLOSE = tasks.update().where(tasks.c.id == sa.bindparam("k_id")).values(
    status=sa.bindparam("status"), close_reason=sa.bindparam("close_reason"), closed_at=sa.bindparam("closed_at"),
    closed_by=sa.bindparam("closed_by"))
_CANDIDATES = task_candidates.insert()
_TIMER_NEW = timers.insert()
FOLLOW_UPS = (StartSubflow, StartFlow, CancelSubflow, Finished)


def write_effects(conn: Connection, instance_id: str, flow: str, effects: Iterable[Any], actor: str,
                  now: datetime, directory: Any) -> list[Any]:
    """Write the effects' rows; return the follow-ups (subflows, flows to start, the end)."""
    at = db_time(now)
    follow: list[Any] = []
    out_rows: list[dict] = []
    for e in effects:
        if isinstance(e, CreateTask):
            conn.execute(_TASK_NEW, {"id": e.task, "instance_id": instance_id, "flow": flow, "node": e.node,
                                     "assignee": e.assignee, "owner": None, "held": e.held, "status": "open",
                                     "due_at": db_time(e.due), "created_at": at})
            _candidates(conn, e.task, e.candidates)
        elif isinstance(e, UpdateTask):
            conn.execute(tasks.update().where(tasks.c.id == e.task)
                         .values(assignee=e.assignee, owner=e.owner, held=e.held))
            conn.execute(task_candidates.delete().where(task_candidates.c.task_id == e.task))
            _candidates(conn, e.task, e.candidates)
        elif isinstance(e, CloseTask):
            done = e.reason == "done"
            conn.execute(_TASK_CLOSE, {"k_id": e.task, "status": "done" if done else "cancelled",
                                       "close_reason": e.reason, "closed_at": at, "closed_by": actor if done else None})
        elif isinstance(e, SetTimer):
            conn.execute(_TIMER_NEW, {"instance_id": instance_id, "timer": e.timer, "kind": e.kind,
                                      "due_at": db_time(e.at)})
        elif isinstance(e, ClearTimer):
            conn.execute(timers.delete().where(timers.c.instance_id == instance_id, timers.c.timer == e.timer))
        elif isinstance(e, Notify):
            out_rows += _notify(conn, instance_id, e, actor, at, directory)
        elif isinstance(e, Webhook):
            out_rows.append(_row(instance_id, e.channel, None, e.template, {"flow": flow, "by": actor}, at))
        elif isinstance(e, FOLLOW_UPS):
            follow.append(e)
    if out_rows:
        conn.execute(outbox.insert(), out_rows)
    return follow


def _candidates(conn: Connection, task_id: str, users: Iterable[str]) -> None:
    rows = [{"task_id": task_id, "user_name": u} for u in dict.fromkeys(users)]
    if rows:
        conn.execute(_CANDIDATES, rows)


def _notify(conn: Connection, instance_id: str, e: Notify, actor: str, at: datetime, directory: Any) -> list[dict]:
    users = list(dict.fromkeys(e.users))
    for role in e.roles:
        users += [u for u in directory.holders(role, None) if u not in users]
    if e.template == "cc" and users:
        conn.execute(ccs.insert(), [{"instance_id": instance_id, "user_name": u, "node": e.node, "task": e.task,
                                     "by": actor, "at": at} for u in users])
    payload = {"node": e.node, "task": e.task, "message": e.message, "by": actor}
    return [_row(instance_id, ch, u, e.template, payload, at) for u in users
            for ch in (e.channels or DEFAULT_CHANNELS)]


def _row(instance_id: str, channel: str, recipient: str | None, template: str, payload: dict,
         at: datetime) -> dict:
    return {"instance_id": instance_id, "channel": channel, "recipient": recipient, "template": template,
            "payload": dumps(payload), "created_at": at, "attempts": 0}

