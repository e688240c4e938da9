"""Moving work against the flow's direction: return (退回) to an earlier step or to the
initiator's edit form (退回发起人) and the initiator's resubmission, withdraw (撤回) an approval
while the next step has not acted, and cancel the whole instance."""
from __future__ import annotations

from dataclasses import replace

from dsl.kinds.flow.ir import INITIATOR

from .commands import Cancel, Resubmit, Return, Withdraw
from .effects import SetFields
from .errors import CommandRejected
from .routing import advance, relocate
from .state import CANCELLED, Handoff, Step, Task, Token
from .steps import restore_step
from .votes import held_task, need_reason
from .work import Work

START = "<start>"


def give_back(work: Work, cmd: Return) -> None:
    task = held_task(work, cmd.task, "return")
    node = work.plan.step(task.node)
    allowed = work.plan.return_targets(node.id)
    if cmd.to not in allowed:
        raise CommandRejected("illegal_target", f"step `{node.id}` cannot return to `{cmd.to}` "
                                                f"(it may return to: {', '.join(allowed) or 'nothing'})")
    if task.owner is not None and not task.deputy:
        raise CommandRejected("delegated_task", f"task {task.id} was delegated to you; {task.owner} decides on a return")
    need_reason(node, "return", cmd.comment)
    work.event("returned", node.id, task.id, to=cmd.to, comment=cmd.comment)
    if cmd.to == INITIATOR:
        _to_initiator(work, work.tokens[task.token])
    else:
        relocate(work, work.tokens[task.token], cmd.to, "returned")


def _to_initiator(work: Work, token: Token) -> None:
    """The application goes back to the initiator's edit form: every open piece of work stops
    (no one decides on an application being edited) and the initiator gets a task. Where the
    resubmission will continue is settled now: this step, or — inside parallel paths — the
    outermost split holding it (so no path is skipped), or the start."""
    if work.plan.resubmit(token.node) == "from_start":
        back = work.flow.first
    elif token.scopes and token.scopes[0][0] in work.splits:
        back = work.splits[token.scopes[0][0]].node
    else:
        back = token.node
    for tid in list(work.tokens):
        work.drop_token(tid, "returned to the initiator")
    work.splits.clear()
    work.handoffs.clear()
    initiator = work.base.initiator
    token_id = work.next_id("t")
    work.tokens[token_id] = Token(token_id, INITIATOR, (), Step("single", (initiator,)), False, None, back)
    work.add_task(Task(work.task_id(), token_id, INITIATOR, initiator))
    work.event("step_opened", INITIATOR, mode="single", assignees=[initiator], back=back)


def resubmit(work: Work, cmd: Resubmit) -> None:
    """The initiator sends the edited application again; it continues where the return said."""
    task = held_task(work, cmd.task, "resubmit")
    token = work.tokens[task.token]
    assert token.back is not None                 # only the initiator's edit step offers resubmit
    if cmd.form:
        work.set_form(dict(cmd.form))
        work.effects.append(SetFields(dict(cmd.form)))
    work.close_task(task.id, "done")
    work.drop_token(token.id, "resubmitted")
    work.event("resubmitted", INITIATOR, task.id, to=token.back, comment=cmd.comment)
    route = advance(work, token.back, ())
    if work.running and not route.closed:         # withdrawable until the next step acts, like a start
        work.handoffs.append(Handoff(START, (work.actor,), (), None, tuple(route.tokens), tuple(route.arrivals),
                                     tuple(route.splits)))


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
    if work.actor == work.base.initiator and cmd.node in (None, INITIATOR) and \
            any(t.node == INITIATOR for t in work.tokens.values()):
        work.event("withdrawn", INITIATOR)       # the application returned to them: they give it up
        work.finish(CANCELLED, "withdrawn", "withdrawn by the initiator")
        return
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
    for h in work.handoffs:                   # most commands leave every hand-off valid: no copy then
        if not valid(work, h):
            work.handoffs = [h for h in work.handoffs if valid(work, h)]
            return


def cancel(work: Work, cmd: Cancel) -> None:
    if work.actor != work.base.initiator and not any(
            work.ctx.directory.has_role(work.actor, r) for r in work.flow.roles):
        raise CommandRejected("not_allowed", "only the initiator or the flow's supervisors can cancel it")
    work.event("cancel_requested", reason=cmd.reason)
    work.finish(CANCELLED, "cancelled", "instance cancelled")
