"""Opening a human step (task or approval): who gets it (assignees, four-eyes, fallbacks),
how they decide (the countersign mode), its tasks, its deadline, reminders and escalation
timers, and the people copied (抄送)."""
from __future__ import annotations

from datetime import datetime

from dsl.kinds.flow.ir import ApprovalNode, Node, TaskNode, Timing

from .effects import Notify
from .errors import CommandRejected
from .state import Scope, Step, Task, Token
from .work import Work


def arm(work: Work, token_id: str, timing: Timing) -> datetime | None:
    """Set the step's timers; give its deadline."""
    cal, now = work.ctx.calendar, work.now
    due = None
    if timing.deadline is not None:
        due = cal.add(now, timing.deadline.amount, timing.deadline.unit)
        work.set_timer(token_id, "deadline", due)
        if timing.on_timeout == "escalate":
            for level, esc in enumerate(timing.escalation):
                work.set_timer(token_id, "escalate", cal.add(due, esc.after.amount, esc.after.unit), level)
    r = timing.reminders
    if r is not None:
        at = None
        if r.before is not None and due is not None:
            at = cal.add(due, -r.before.amount, r.before.unit)
        elif r.every is not None:
            at = cal.add(now, r.every.amount, r.every.unit)
        if at is not None and at > now:
            work.set_timer(token_id, "remind", at, 1)
    return due


def four_eyes(node: Node, initiator: str) -> bool:
    """Whether the initiator must be kept off this step (an approval not allowing them)."""
    return isinstance(node, ApprovalNode) and node.if_initiator != "allow"


def assignees(work: Work, node: TaskNode) -> list[str] | None:
    """The people for the step, after the initiator and no-assignee rules; None: skip the step."""
    users = work.users(node.assignees)
    initiator = work.base.initiator
    if isinstance(node, ApprovalNode) and initiator in users and node.if_initiator != "allow":
        if node.if_initiator in (None, "supervisor"):
            boss = work.ctx.directory.supervisor(initiator)
            users = list(dict.fromkeys(boss if u == initiator and boss else u for u in users if u != initiator or boss))
            work.event("initiator_replaced", node.id, by=boss)
        else:
            users = [u for u in users if u != initiator]
            if not users:
                work.event("skipped", node.id, why="initiator")
                return None
    if users:
        return users
    policy = node.if_no_assignee
    if policy in ("skip", "auto_approve"):
        work.event("skipped" if policy == "skip" else "auto_approved", node.id, why="no assignee")
        return None
    if policy == "escalate":
        keep_off = initiator if four_eyes(node, initiator) else None
        for level in node.timing.escalation:
            users = [u for u in work.users(level.to) if u != keep_off]
            if users:
                work.event("escalated", node.id, why="no assignee", to=users)
                return users
        for role in work.flow.roles:
            users = [u for u in work.ctx.directory.holders(role, None) if u != keep_off]
            if users:
                work.event("escalated", node.id, why="no assignee", to=users)
                return users
    raise CommandRejected("no_assignee", f"nobody can take step `{node.id}`: `{node.assignees.text if node.assignees else ''}`"
                                         " finds no one (check who holds the role)")


def open_step(work: Work, node: TaskNode, scopes: tuple[Scope, ...]) -> str | None:
    """Open the step for a token arriving at `node`; None when it passes at once (skipped)."""
    users = assignees(work, node)
    if users is None:
        return None
    cs = getattr(node, "countersign", None)
    mode = cs.mode if cs is not None else "single"
    token_id = work.next_id("t")
    due = arm(work, token_id, node.timing)
    if mode == "sequential":
        step = Step(mode, (users[0],), tuple(users[1:]))
    else:
        step = Step(mode, tuple(users))
    work.tokens[token_id] = Token(token_id, node.id, scopes, step, False, due)
    if mode == "single" and len(users) > 1:
        work.add_task(Task(work.task_id(), token_id, node.id, None, tuple(users)))
    else:
        for user in step.signers:
            work.add_task(Task(work.task_id(), token_id, node.id, user))
    work.event("step_opened", node.id, mode=mode, assignees=users)
    if node.timing.cc is not None:
        cc = tuple(work.users(node.timing.cc))
        if cc:
            work.watchers = tuple(dict.fromkeys(work.watchers + cc))
            work.effects.append(Notify(cc, "cc", node=node.id))
    return token_id


def restore_step(work: Work, node: TaskNode, scopes: tuple[Scope, ...], step: Step, user: str) -> str:
    """Reopen a passed step for `user` (withdraw): the others' votes stay, theirs is taken back."""
    token_id = work.next_id("t")
    due = arm(work, token_id, node.timing)
    votes = tuple((u, v) for u, v in step.votes if u != user)
    signers = step.signers if user in step.signers else step.signers + (user,)
    work.tokens[token_id] = Token(token_id, node.id, scopes, Step(step.mode, signers, step.queue, votes), False, due)
    work.add_task(Task(work.task_id(), token_id, node.id, user))
    work.event("step_reopened", node.id, assignee=user)
    return token_id
