"""Who may see a flow instance or a task on the pages (and through the JSON API when the web
app is on: runtime/http/flow_guard.py asks `involved_in` and `can_see`, nothing else): an
administrator; the initiator; anyone who holds, held, owns, closed or may claim one of its
tasks; anyone CC'd on it; anyone whose org scope holds the subject record.

Acting is narrower and decided by the engine with the signed-in person as the actor: a task
command from anyone but its assignee (or, for a pool task, one of its candidates) is refused
with `not_assignee`, whatever the page or the request says."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from runtime.auth.users import User
from runtime.flows.tables import ccs, instances, task_candidates, tasks
from runtime.records.errors import NotFound
from runtime.storage.prepared import Prepared


def _involved_query() -> Prepared:
    started = sa.select(instances.c.id).where(instances.c.id == sa.bindparam("k_id"),
                                              instances.c.initiator == sa.bindparam("k_user"))
    on_task = sa.select(tasks.c.id).where(tasks.c.instance_id == sa.bindparam("k_id"), sa.or_(
        tasks.c.assignee == sa.bindparam("k_user"), tasks.c.owner == sa.bindparam("k_user"),
        tasks.c.closed_by == sa.bindparam("k_user")))
    candidate = (sa.select(task_candidates.c.task_id).join(tasks, tasks.c.id == task_candidates.c.task_id)
                 .where(tasks.c.instance_id == sa.bindparam("k_id"), task_candidates.c.user_name == sa.bindparam("k_user")))
    copied = sa.select(ccs.c.id).where(ccs.c.instance_id == sa.bindparam("k_id"), ccs.c.user_name == sa.bindparam("k_user"))
    return Prepared(sa.select((sa.exists(started) | sa.exists(on_task) | sa.exists(candidate) | sa.exists(copied))
                              .label("involved")))


_INVOLVED = _involved_query()


def involved(conn: Any, instance_id: str, user: str) -> bool:
    """Initiator, on a task (held, owned, closed, candidate) or CC'd — one prepared query (the flow
    API guard asks it before every command)."""
    return bool(_INVOLVED.scalar(conn, {"k_id": instance_id, "k_user": user}))


def involved_in(engine: Engine, instance_id: str, user: str) -> bool:
    """`involved` on a connection of its own (the doors' guards hold no connection)."""
    with engine.connect() as conn:
        return involved(conn, instance_id, user)


def subject_in_scope(web: Any, user: User, entity: str | None, key: str | None, *, own: bool = False) -> bool:
    """Whether the person may read the subject record (with `own`: whether it is placed in their
    scope, as starting a flow about it requires — a co-serving branch reads a group, its lead
    branch applies for it)."""
    if not entity or key is None:
        return False
    if entity not in web.live().bundle.entities:
        return False
    try:
        web.records.find(entity, key, scope=web.scope(user), write=own)
    except NotFound:
        return False
    return True


def can_see(web: Any, user: User, view: dict) -> bool:
    """Whether `user` may see the instance `view` (FlowService.instance)."""
    if user.is_admin or view.get("initiator") == user.name:
        return True
    if any(user.name in (t.get("assignee"), t.get("owner")) or user.name in t.get("candidates", ())
           for t in view.get("tasks", ())) or user.name in view.get("watchers", ()):
        return True
    if involved_in(web.engine, view["id"], user.name):
        return True
    subject = view.get("subject") or {}
    return subject_in_scope(web, user, subject.get("entity"), subject.get("key"))


def may_act(user: User, task: dict) -> bool:
    """Whether the task's buttons are the person's: the assignee, or a candidate of a pool task."""
    if task.get("status") != "open":
        return False
    if task.get("assignee") is None:
        return user.name in task.get("candidates", ())
    return task["assignee"] == user.name
