"""Out of office (代理): a new task for someone who is away goes to the deputy they named, on
their behalf (`Task.owner` = the absent person, `Task.deputy`): the deputy's action is final
and counts as the absent person's vote (their veto too), unlike a delegation (委托), which
comes back to its owner.

Who is away is the runtime's to know: a directory with `deputy(user, at) -> str | None` (an
optional method; a directory without it has no deputies). The engine decides whether the
deputy may take the task: never the initiator where four eyes keep them off the step (as
`steps.four_eyes`), never someone already on the step (a countersign counts each person once),
never the initiator's own edit form. Then the task stays with the absent person, and the
timeline says why."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from dsl.kinds.flow.ir import INITIATOR, TaskNode

from .commands import SYSTEM
from .state import Task


def stand_in(work: Any, task: Task) -> Task:
    """`task` as it should be created: with the assignee's deputy if they are away."""
    find = getattr(work.ctx.directory, "deputy", None)
    user = task.assignee
    if find is None or user is None or task.owner is not None or task.node == INITIATOR:
        return task
    deputy = find(user, work.now)
    if not deputy or deputy == user:
        return task
    node = work.plan.step(task.node)
    if deputy == work.base.initiator and isinstance(node, TaskNode) and node.initiator_policy != "allow":
        work.event("deputy_skipped", task.node, task.id, SYSTEM, user=user, deputy=deputy, why="initiator")
        return task
    token = work.tokens.get(task.token)
    on_step = set(token.step.signers + token.step.queue) if token is not None and token.step is not None else set()
    for t in work.tasks.values():
        if t.token == task.token:
            on_step.update(x for x in (t.assignee, t.owner, *t.candidates, *t.after) if x)
    if deputy in on_step:
        work.event("deputy_skipped", task.node, task.id, SYSTEM, user=user, deputy=deputy, why="on_step")
        return task
    work.event("deputised", task.node, task.id, SYSTEM, user=user, deputy=deputy)
    return replace(task, assignee=deputy, owner=user, deputy=True)
