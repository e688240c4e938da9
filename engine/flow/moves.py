"""Moving work against the flow's direction: return (退回) to an earlier step, withdraw (撤回)
an approval while the next step has not acted, and cancel the whole instance."""
from __future__ import annotations

from dataclasses import replace

from .commands import Cancel, Return, Withdraw
from .errors import CommandRejected
from .routing import relocate
from .state import CANCELLED, Handoff
from .steps import restore_step
from .votes import held_task
from .work import Work

START = "<start>"


def give_back(work: Work, cmd: Return) -> None:
    task = held_task(work, cmd.task, "return")
    node = work.plan.step(task.node)
    allowed = work.plan.return_targets(node.id)
    if cmd.to not in allowed:
        raise CommandRejected("illegal_target", f"step `{node.id}` cannot return to `{cmd.to}` "
                                                f"(it may return to: {', '.join(allowed) or 'nothing'})")
    if task.owner is not None:
        raise CommandRejected("delegated_task", f"task {task.id} was delegated to you; {task.owner} decides on a return")
    work.event("returned", node.id, task.id, to=cmd.to, comment=cmd.comment)
    relocate(work, work.tokens[task.token], cmd.to, "returned")


def valid(work: Work, h: Handoff) -> bool:
    """A hand-off can still be withdrawn: nothing it produced has been acted on or moved on."""
    tokens, splits = work.tokens, work.splits
    for t in h.tokens:
        token = tokens.get(t)
        if token is None or token.touched:
            return False
    for s in h.arrivals:
        if s not in splits:
            return False
    for s, _ in h.scopes:
        if s not in splits:
            return False
    return True


def withdraw(work: Work, cmd: Withdraw) -> None:
    mine = [h for h in work.handoffs if work.actor in h.by and (cmd.node is None or h.node == cmd.node)]
    if not mine:
        what = f"step `{cmd.node}`" if cmd.node else "any step"
        raise CommandRejected("withdraw_too_late", f"{work.actor} has nothing to withdraw at {what}: the next step "
                                                   "has already acted, or you did not pass it")
    h = mine[-1]
    if not valid(work, h):
        raise CommandRejected("withdraw_too_late", f"the step after `{h.node}` has already acted; ask its "
                                                   "assignee to return the work instead")
    work.handoffs.remove(h)
    work.event("withdrawn", None if h.node == START else h.node)
    if h.node == START:
        work.finish(CANCELLED, "withdrawn", "withdrawn by the initiator")
        return
    for tid in h.tokens:
        if tid in work.tokens:
            work.drop_token(tid, "withdrawn")
    for sid in h.splits:
        if sid in work.splits:
            work.cancel_split(sid, "withdrawn")
    for sid in h.arrivals:
        split = work.splits.get(sid)
        if split is not None:
            work.splits[sid] = replace(split, arrived=split.arrived - 1)
    assert h.step is not None                     # only the start's hand-off has no step
    restore_step(work, work.plan.step(h.node), h.scopes, h.step, work.actor)


def prune(work: Work) -> None:
    """Forget hand-offs that can no longer be withdrawn (the state keeps only live things)."""
    if work.handoffs:
        work.handoffs = [h for h in work.handoffs if valid(work, h)]


def cancel(work: Work, cmd: Cancel) -> None:
    if work.actor != work.base.initiator and not any(
            work.ctx.directory.has_role(work.actor, r) for r in work.flow.roles):
        raise CommandRejected("not_allowed", "only the initiator or the flow's supervisors can cancel it")
    work.event("cancel_requested", reason=cmd.reason)
    work.finish(CANCELLED, "cancelled", "instance cancelled")
