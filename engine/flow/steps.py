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


def arm(work: Work, token_id: str, timing: Timing, node_id: str | None = None) -> datetime | None:
    """Set the step's timers; give its deadline (the context's for this step, when it gives one:
    a client's promised response time, else the step's own)."""
    cal, now = work.ctx.calendar, work.now
    due = None
    deadline = work.ctx.deadlines.get(node_id, timing.deadline) if node_id is not None and timing.deadline is not None \
        else timing.deadline
    if deadline is not None:
        due = cal.add(now, deadline.amount, deadline.unit)
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
    """Whether the initiator must be kept off this step (`if_initiator` skip or supervisor; an
    approval's default is supervisor, a task's allow)."""
    return isinstance(node, TaskNode) and node.initiator_policy != "allow"


def assignees(work: Work, node: TaskNode) -> list[str] | None:
    """The people for the step, after the initiator and no-assignee rules; None: skip the step."""
    users = work.users(node.assignees)
    initiator = work.base.initiator
    alone = False                                 # the initiator was the only one: never pass unapproved
    if initiator in users and node.initiator_policy != "allow":
        others = [u for u in users if u != initiator]
        if node.initiator_policy == "skip" and others:
            users = others
        else:
            boss = work.ctx.directory.supervisor(initiator)
            alone = not others
            users = list(dict.fromkeys(boss if u == initiator else u for u in users)) if boss else others
            if boss or not alone:
                work.event("initiator_replaced", node.id, by=boss, **({"why": "initiator alone"} if alone else {}))
    if isinstance(node, ApprovalNode) and node.countersign is not None and node.countersign.has_veto and users:
        users = _with_veto_holders(work, node, users)
    if users:
        return users
    policy = node.if_no_assignee
    if policy in ("skip", "auto_approve") and not alone:
        work.event("skipped" if policy == "skip" else "auto_approved", node.id, why="no assignee")
        return None
    if policy == "escalate" or (alone and policy != "fail"):
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
    if alone:
        raise CommandRejected("no_assignee", f"only the initiator can take step `{node.id}` and four eyes keep "
                                             "them off it: give them a supervisor, or name other assignees")
    raise CommandRejected("no_assignee", f"nobody can take step `{node.id}`: `{node.assignees.text if node.assignees else ''}`"
                                         " finds no one (check who holds the role)")


def veto_holders(work: Work, node: ApprovalNode) -> list[str]:
    """Who holds the step's veto: the holders of its veto roles (bank-wide) and its veto expression."""
    cs = node.countersign
    assert cs is not None
    found: dict[str, None] = {}
    for role in cs.veto_roles:
        found.update(dict.fromkeys(work.ctx.directory.holders(role, None)))
    if cs.veto is not None:
        found.update(dict.fromkeys(work.users(cs.veto)))
    return list(found)


def _with_veto_holders(work: Work, node: ApprovalNode, users: list[str]) -> list[str]:
    """Veto holders are signers of their step: each gets a task whether or not they hold the
    signers' role (the initiator only where four eyes allow it)."""
    keep_off = work.base.initiator if four_eyes(node, work.base.initiator) else None
    extra = [u for u in veto_holders(work, node) if u not in users and u != keep_off]
    if extra:
        work.event("veto_holders_added", node.id, users=extra)
        return users + extra
    return users


def open_step(work: Work, node: TaskNode, scopes: tuple[Scope, ...]) -> str | None:
    """Open the step for a token arriving at `node`; None when it passes at once (skipped)."""
    users = assignees(work, node)
    if users is None:
        return None
    cs = getattr(node, "countersign", None)
    mode = cs.mode if cs is not None else "single"
    token_id = work.next_id("t")
    timing = node.timing
    due = arm(work, token_id, timing, node.id) if timing.deadline is not None or timing.reminders is not None \
        else None
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
    if timing.cc is not None:
        cc = tuple(work.users(node.timing.cc))
        if cc:
            work.watchers = tuple(dict.fromkeys(work.watchers + cc))
            work.effects.append(Notify(cc, "cc", node=node.id))
    return token_id


def restore_step(work: Work, node: TaskNode, scopes: tuple[Scope, ...], step: Step, user: str) -> str:
    """Reopen a passed step for `user` (withdraw): the others' votes stay, theirs is taken back."""
    token_id = work.next_id("t")
    due = arm(work, token_id, node.timing, node.id)
    votes = tuple((u, v) for u, v in step.votes if u != user)
    signers = step.signers if user in step.signers else step.signers + (user,)
    work.tokens[token_id] = Token(token_id, node.id, scopes, Step(step.mode, signers, step.queue, votes), False, due)
    work.add_task(Task(work.task_id(), token_id, node.id, user))
    work.event("step_reopened", node.id, assignee=user)
    return token_id
