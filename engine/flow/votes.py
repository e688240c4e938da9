"""Deciding a human step: claim, approve, reject, complete; counting a countersign (distinct
people, approvals not completions, veto at once, one signer at a time when sequential); and
what follows a decision (pass on, on_reject, or the end with outcome `rejected`)."""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from dsl.kinds.flow.ir import ApprovalNode, TaskNode

from .commands import Approve, Complete, Reject, TaskCommand
from .effects import SetFields
from .errors import CommandRejected
from .routing import advance, relocate
from .state import APPROVE, FINISHED, REJECT, Handoff, Step, Task, Token
from .steps import four_eyes
from .work import Work


def held_task(work: Work, task_id: str, action: str | None) -> Task:
    """The task the actor acts on, checked: theirs (or in their pool), not held, action allowed."""
    task = work.task(task_id)
    mine = work.actor in task.candidates if task.assignee is None else task.assignee == work.actor
    if not mine and work.actor == work.base.initiator and four_eyes(work.plan.nodes[task.node], work.actor):
        raise CommandRejected("four_eyes", f"{work.actor} started this request and cannot decide step "
                                           f"`{task.node}` of it: a second person must (four eyes, maker-checker)")
    if task.assignee is None:
        if work.actor not in task.candidates:
            raise CommandRejected("not_assignee", f"{work.actor} is not among the people of task {task.id}")
    elif task.assignee != work.actor:
        raise CommandRejected("not_assignee", f"task {task.id} is {task.assignee}'s, not {work.actor}'s")
    if task.held:
        raise CommandRejected("task_held", f"task {task.id} waits for the signers added before it")
    if action is not None:
        offered = work.plan.offered.get(task.node, ())    # plan.actions(node), read straight
        if action not in offered:
            raise CommandRejected("action_not_allowed", f"`{action}` is not allowed at step `{task.node}` "
                                                        f"(allowed: {', '.join(offered)})")
    return task


def need_reason(node: TaskNode, action: str, comment: str | None) -> None:
    """Refuse `action` without a reason (意见) where the step requires one (`reason_required`)."""
    if action in node.reason_required and (comment is None or not comment.strip()):
        raise CommandRejected("reason_required", f"step `{node.id}` needs a reason to {action}: write your "
                                                 "opinion in the comment")


def take_pool(work: Work, task: Task, holder: str) -> None:
    """A pool task (a single step's, offered to several people) taken by `holder` — claimed, or
    delegated or transferred by a candidate: `holder` alone is now the step's signer. The pool's
    other candidates hold no task, and a step must never wait for people without one (adding
    a parallel signer made the step wait for them; removing the holder left them in charge)."""
    token = work.tokens.get(task.token)
    if task.assignee is None and token is not None and token.step is not None:
        work.tokens[token.id] = replace(token, step=replace(token.step, signers=(holder,)))


def claim(work: Work, cmd: TaskCommand) -> None:
    task = work.task(cmd.task)
    if task.assignee is not None:
        raise CommandRejected("already_claimed", f"task {task.id} is already {task.assignee}'s")
    held_task(work, cmd.task, None)
    take_pool(work, task, work.actor)
    work.update_task(replace(task, assignee=work.actor, candidates=()))
    work.touch(task.token)
    work.event("claimed", task.node, task.id)


def vote(work: Work, cmd: Approve | Reject | Complete, verdict: str) -> None:
    """approve | reject | complete on a task."""
    task = held_task(work, cmd.task, verdict)
    node = work.plan.steps[task.node]             # a task rests at a step of people (plan.step)
    if verdict in node.reason_required:
        need_reason(node, verdict, cmd.comment)
    is_approval = isinstance(node, ApprovalNode)
    if is_approval == (verdict == "complete"):
        raise CommandRejected("wrong_action", f"step `{node.id}` is {'an approval' if is_approval else 'a task'}: "
                                              f"{'approve or reject it' if is_approval else 'complete it'}")
    token = work.tokens[task.token]
    step = token.step
    assert step is not None                       # a task's token rests at its step
    if task.assignee is None and step.mode == "single":
        # a pool task decided without a claim: the actor alone held the step (as take_pool), so a
        # withdrawal reopens it for them alone, never waiting on the pool's other candidates
        step = Step(step.mode, (work.actor,), step.queue, step.votes)
    fields = _checked_fields(node, cmd.fields, work.form, verdict) if cmd.fields or node.fields.required else cmd.fields
    if task.owner is not None and not task.deputy:
        work.touch(token.id)                      # the delegate has acted: back to the delegator
        _set_fields(work, fields)
        work.update_task(replace(task, assignee=task.owner, owner=None))
        work.event("delegate_acted", node.id, task.id, verdict=verdict, comment=cmd.comment, owner=task.owner)
        return
    signer = task.owner or work.actor             # a deputy (代理) acts for the absent owner
    if step.votes and step.voted(signer):
        raise CommandRejected("already_acted", f"{signer} has already acted on step `{node.id}`")
    if verdict != REJECT and signer == work.base.initiator and four_eyes(node, signer):
        raise CommandRejected("four_eyes", f"{signer} started this request and cannot "
                                           f"{'approve it' if is_approval else 'do this step'}")
    # the fields a page sends back as it showed them edit nothing: such a vote says so (`unchanged`),
    # and commutes with the other signers' votes (runtime/flows/store.py `only_votes_since`)
    unchanged = True if fields and all(work.form.get(k) == v for k, v in fields.items()) else None
    if fields:
        _set_fields(work, fields)
    if verdict == REJECT and task.release is not None and isinstance(node, ApprovalNode) \
            and node.added_signer_reject == "back_to_adder" and task.release in work.tasks \
            and not vetoes(work, node, signer):
        return _back_to_adder(work, node, task, cmd, fields)
    work.close_task(task.id, "done")
    counted = REJECT if verdict == REJECT else APPROVE
    step = Step(step.mode, step.signers, step.queue, step.votes + ((signer, counted),))
    if task.release is not None and not any(t.release == task.release for t in work.tasks.values()):
        held = work.tasks.get(task.release)
        if held is not None:
            work.update_task(replace(held, held=False))
    decisive = counted if counted == REJECT or not (task.release or task.after) else None
    if counted == APPROVE and task.after:
        fresh = [u for u in task.after if u not in step.signers]
        step = Step(step.mode, step.signers + tuple(fresh), step.queue, step.votes)
        for user in fresh:
            work.add_task(Task(work.task_id(), token.id, node.id, user))
    # a single or any step passes on this approval (settle's verdict): its token goes at once, unrebuilt
    passes = decisive == APPROVE and (step.mode == "single" or step.mode == "any")
    if not passes:
        work.tokens[token.id] = Token(token.id, token.node, token.scopes, step, True, token.due)
    if task.owner:                                # a deputy's vote, for the absent owner
        work.event(verdict, node.id, task.id, comment=cmd.comment, fields=dict(fields) if fields else None,
                   unchanged=unchanged, on_behalf_of=task.owner)
    else:
        work.event(verdict, node.id, task.id, comment=cmd.comment, fields=dict(fields) if fields else None,
                   unchanged=unchanged)
    if passes:
        return pass_step(work, token.id, step=step)
    if counted == REJECT and isinstance(node, ApprovalNode) and vetoes(work, node, signer):
        work.event("veto", node.id, task.id, by=signer)
        return reject_step(work, token.id)
    settle(work, token.id, decisive)


def _back_to_adder(work: Work, node: ApprovalNode, task: Task, cmd: Approve | Reject | Complete,
                   fields: Mapping[str, Any]) -> None:
    """A signer added before the approver (前加签) rejects: their opinion goes back to the approver
    who added them, who now decides. The signers that approver added before them and who have not
    acted yet are let go too (the decision is the adder's again); none of them counts as a vote."""
    token, release = work.tokens[task.token], task.release
    step = token.step
    assert step is not None and release is not None
    work.close_task(task.id, "done")
    gone = {task.signer}
    for other in work.tasks_of_token(token.id):
        if other.release == release:
            gone.add(other.signer)
            work.close_task(other.id, "returned to the adder")
    adder = work.tasks[release]
    work.update_task(replace(adder, held=False))
    work.tokens[token.id] = Token(token.id, token.node, token.scopes,
                                  Step(step.mode, tuple(u for u in step.signers if u not in gone), step.queue,
                                       step.votes), True, token.due)
    work.event(REJECT, node.id, task.id, comment=cmd.comment, fields=dict(fields) or None)
    work.event("back_to_adder", node.id, task.id, to=adder.signer)
    settle(work, token.id)                        # fewer signers: the votes cast may now meet a ratio


def vetoes(work: Work, node: TaskNode, user: str) -> bool:
    """Whether `user` holds the veto of this approval step."""
    cs = getattr(node, "countersign", None)
    if cs is None or not cs.has_veto:
        return False
    if any(work.ctx.directory.has_role(user, r) for r in cs.veto_roles):
        return True
    return cs.veto is not None and user in work.users(cs.veto)


def settle(work: Work, token_id: str, decisive: str | None = None) -> None:
    """Decide the step if its votes now allow it; ask the next sequential signer otherwise."""
    token = work.tokens[token_id]
    step, node = token.step, work.plan.steps[token.node]
    assert step is not None
    mode = step.mode
    verdict = None
    if mode == "single" or mode == "any":
        verdict = decisive
    elif mode != "ratio" and _has_reject(step.votes):
        verdict = REJECT
    elif mode == "all":
        if _all_voted(step) and not _has_task(work, token_id):
            verdict = APPROVE
    elif step.mode == "ratio":
        n, approvals = len(step.signers), step.approvals
        undecided = sum(1 for u in step.signers if not step.voted(u))
        cs = node.countersign if isinstance(node, ApprovalNode) else None
        assert cs is not None and cs.pass_ratio is not None   # the ratio mode is an approval's countersign
        ratio = cs.pass_ratio
        if approvals * ratio.denominator >= ratio.numerator * n:
            # a veto holds: the step waits for every veto holder among its signers to vote
            if not cs.has_veto or all(step.voted(u) or not vetoes(work, node, u) for u in step.signers):
                verdict = APPROVE
        elif (approvals + undecided) * ratio.denominator < ratio.numerator * n:
            verdict = REJECT
    elif mode == "sequential" and not work.tasks_of_token(token_id):
        if step.queue:
            nxt, rest = step.queue[0], step.queue[1:]
            step = Step(step.mode, step.signers + (nxt,), rest, step.votes)
            work.tokens[token_id] = Token(token.id, token.node, token.scopes, step, token.touched, token.due)
            work.add_task(Task(work.task_id(), token_id, node.id, nxt))
        else:
            verdict = APPROVE
    if verdict == APPROVE:
        pass_step(work, token_id)
    elif verdict == REJECT:
        reject_step(work, token_id)


def _has_reject(votes: tuple[tuple[str, str], ...]) -> bool:
    for _, v in votes:
        if v == REJECT:
            return True
    return False


def _all_voted(step: Step) -> bool:
    voted = {u for u, _ in step.votes}
    for u in step.signers:
        if u not in voted:
            return False
    return True


def _has_task(work: Work, token_id: str) -> bool:
    for t in work.tasks.values():
        if t.token == token_id:
            return True
    return False


def pass_step(work: Work, token_id: str, by: tuple[str, ...] | None = None, step: Step | None = None) -> None:
    """Pass the step of `token_id` on; `step`: its votes as they now stand, when the token was not
    rebuilt with them (vote's common path), else the token's own."""
    token = work.tokens[token_id]
    node = work.plan.nodes[token.node]
    if step is None:
        step = token.step
    if by is None:
        assert step is not None
        votes = step.votes
        by = (votes[0][0],) if len(votes) == 1 and votes[0][1] == APPROVE else \
            tuple([u for u, v in votes if v == APPROVE])
    approvers = by
    work.drop_token(token_id, "step decided")
    work.event("step_passed", node.id)
    route = advance(work, node.next, token.scopes)
    if work.running and not route.closed and approvers:
        if work.handoffs:
            work.handoffs = [h for h in work.handoffs if h.node != node.id or h.scopes != token.scopes]
        work.handoffs.append(Handoff(node.id, approvers, token.scopes, step, tuple(route.tokens),
                                     tuple(route.arrivals), tuple(route.splits)))


def reject_step(work: Work, token_id: str) -> None:
    token = work.tokens[token_id]
    node = work.plan.nodes[token.node]
    work.event("step_rejected", node.id)
    on_reject = getattr(node, "on_reject", None)
    if on_reject:
        relocate(work, token, on_reject, "step rejected")
    else:
        work.drop_token(token_id, "step rejected")
        work.finish(FINISHED, "rejected", "request rejected")


def _checked_fields(node: TaskNode, values: Mapping[str, Any], form: Mapping[str, Any],
                    verdict: str) -> Mapping[str, Any]:
    allowed = set(node.fields.editable)
    wrong = sorted(k for k in values if k not in allowed)
    if wrong:
        raise CommandRejected("field_not_editable", f"step `{node.id}` may not change {', '.join(wrong)}"
                                                    f" (editable: {', '.join(sorted(allowed)) or 'none'})")
    if verdict != REJECT:
        missing = [k for k in node.fields.required if values.get(k, form.get(k)) in (None, "")]
        if missing:
            raise CommandRejected("field_required", f"fill {', '.join(missing)} to finish step `{node.id}`")
    return values


def _set_fields(work: Work, values: Mapping[str, Any]) -> None:
    if values:
        work.set_form(values)
        work.effects.append(SetFields(dict(values)))
