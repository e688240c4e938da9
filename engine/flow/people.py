"""Changing who works on a step: transfer (转办), delegate (委托), add signer (加签 before,
after or in parallel), remove signer (减签); and the words around it: urge (催办), cc (抄送),
comment. A countersign counts distinct people, so nobody may be brought in twice."""
from __future__ import annotations

from dataclasses import replace

from dsl.kinds.flow.ir import TaskNode

from .commands import AddSigner, Cc, Comment, Delegate, RemoveSigner, Transfer, Urge
from .effects import Notify
from .errors import CommandRejected
from .state import Task
from .steps import four_eyes
from .votes import held_task, need_reason, settle, take_pool, vetoes
from .work import Work


def _newcomer(work: Work, token_id: str, node: TaskNode, user: str) -> None:
    """`user` may join the step: not on it already, not the actor, not the initiator on an approval."""
    step = work.tokens[token_id].step
    assert step is not None                       # a task's token rests at its step
    on_step = set(step.signers) | set(step.queue) | {u for u, _ in step.votes}
    for t in work.tasks_of_token(token_id):
        on_step.update(t.after)
        on_step.update(x for x in (t.assignee, t.owner) if x)
        on_step.update(t.candidates)
    if user in on_step:
        raise CommandRejected("already_signer", f"{user} is already on step `{node.id}`; a countersign counts "
                                                "each person once")
    if user == work.base.initiator and four_eyes(node, user):
        raise CommandRejected("four_eyes", f"{user} started this request and cannot sign it")


def transfer(work: Work, cmd: Transfer) -> None:
    task = held_task(work, cmd.task, "transfer")
    node = work.plan.step(task.node)
    need_reason(node, "transfer", cmd.comment)
    if task.owner is not None:
        raise CommandRejected("delegated_task", f"task {task.id} was delegated to you by {task.owner}; act on it "
                                                "and it goes back to them")
    _newcomer(work, task.token, node, cmd.to)
    token = work.tokens[task.token]
    step = token.step
    assert step is not None
    if task.assignee is None:       # a pool task: `to` alone takes it (take_pool)
        signers: tuple[str, ...] = (cmd.to,)
    else:
        signers = tuple(cmd.to if u == work.actor else u for u in step.signers)
    work.tokens[token.id] = replace(token, step=replace(step, signers=signers), touched=True)
    work.update_task(replace(task, assignee=cmd.to, candidates=()))
    work.event("transferred", node.id, task.id, to=cmd.to, comment=cmd.comment)


def delegate(work: Work, cmd: Delegate) -> None:
    task = held_task(work, cmd.task, "delegate")
    node = work.plan.step(task.node)
    need_reason(node, "delegate", cmd.comment)
    if task.owner is not None:
        raise CommandRejected("delegated_task", f"task {task.id} is already delegated by {task.owner}")
    if cmd.to == work.actor:
        raise CommandRejected("already_signer", "you cannot delegate a task to yourself")
    _newcomer(work, task.token, node, cmd.to)
    take_pool(work, task, work.actor)             # the delegator stays the signer; `to` acts for them
    work.touch(task.token)
    work.update_task(replace(task, assignee=cmd.to, candidates=(), owner=work.actor))
    work.event("delegated", node.id, task.id, to=cmd.to, comment=cmd.comment)


def add_signer(work: Work, cmd: AddSigner) -> None:
    task = held_task(work, cmd.task, "add_signer")
    node = work.plan.step(task.node)
    need_reason(node, "add_signer", cmd.comment)
    if cmd.position not in ("before", "after", "parallel"):
        raise CommandRejected("bad_position", f"add a signer before, after or in parallel, not {cmd.position!r}")
    users = tuple(dict.fromkeys(cmd.users))
    if not users:
        raise CommandRejected("no_signer", "name at least one person to add")
    if task.owner is not None or task.assignee is None:
        raise CommandRejected("not_assignee", f"claim task {task.id} (and act on it as yourself) before adding signers")
    for user in users:
        _newcomer(work, task.token, node, user)
    token = work.tokens[task.token]
    step = token.step
    assert step is not None
    if cmd.position == "after":
        work.update_task(replace(task, after=task.after + users))
    else:
        mode = "all" if step.mode == "single" and cmd.position == "parallel" else step.mode
        step = replace(step, mode=mode, signers=step.signers + users)
        work.tokens[token.id] = replace(token, step=step)
        if cmd.position == "before":
            work.update_task(replace(task, held=True))
        for user in users:
            work.add_task(Task(work.task_id(), token.id, node.id, user,
                               release=task.id if cmd.position == "before" else None))
    work.touch(token.id)
    work.event("signer_added", node.id, task.id, users=list(users), position=cmd.position)


def remove_signer(work: Work, cmd: RemoveSigner) -> None:
    task = held_task(work, cmd.task, "remove_signer")
    node = work.plan.step(task.node)
    token = work.tokens[task.token]
    step = token.step
    assert step is not None
    user = cmd.user
    if user == work.actor or step.voted(user):
        raise CommandRejected("cannot_remove", f"{user} has acted on step `{node.id}` or is you; only a signer who "
                                               "has not acted can be removed")
    if vetoes(work, node, user):
        raise CommandRejected("cannot_remove", f"{user} holds the veto of step `{node.id}`; the step waits for "
                                               "their vote")
    after_of = [t for t in work.tasks_of_token(token.id) if user in t.after]
    theirs = [t for t in work.tasks_of_token(token.id) if t.signer == user]
    if not (after_of or theirs or user in step.queue):
        raise CommandRejected("not_signer", f"{user} is not a signer of step `{node.id}`")
    remaining = [u for u in step.signers + step.queue if u != user]
    if not remaining:
        raise CommandRejected("cannot_remove", f"step `{node.id}` needs at least one signer")
    for t in after_of:
        work.update_task(replace(t, after=tuple(u for u in t.after if u != user)))
    for t in theirs:
        work.close_task(t.id, "signer removed")
        if t.release and not any(x.release == t.release for x in work.tasks.values()) and t.release in work.tasks:
            work.update_task(replace(work.tasks[t.release], held=False))
        # Signers added "before" the removed one were to sign ahead of their decision; with that
        # signer gone, their own votes decide the step (otherwise the step would wait forever).
        for x in list(work.tasks.values()):
            if x.release == t.id:
                work.update_task(replace(x, release=None))
    step = replace(step, signers=tuple(u for u in step.signers if u != user),
                   queue=tuple(u for u in step.queue if u != user))
    work.tokens[token.id] = replace(token, step=step, touched=True)
    work.event("signer_removed", node.id, task.id, user=user)
    settle(work, token.id)


def urge(work: Work, cmd: Urge) -> None:
    if work.actor != work.base.initiator and not _admin(work):
        raise CommandRejected("not_allowed", "only the initiator (or the flow's supervisors) can urge")
    tasks = [work.task(cmd.task)] if cmd.task else list(work.tasks.values())
    tasks = [t for t in tasks if "urge" in work.plan.step(t.node).actions and not t.held]
    if not tasks:
        raise CommandRejected("nothing_to_urge", "no open task here can be urged")
    for t in tasks:
        work.effects.append(Notify(tuple([t.assignee] if t.assignee else t.candidates), "urge", node=t.node,
                                   task=t.id, message=cmd.message))
    work.event("urged", task=cmd.task, tasks=[t.id for t in tasks], message=cmd.message)


def cc(work: Work, cmd: Cc) -> None:
    if cmd.task is not None:
        held_task(work, cmd.task, "cc")
    elif work.actor != work.base.initiator and not _admin(work):
        raise CommandRejected("not_allowed", "copy others from one of your tasks, or as the initiator")
    users = tuple(u for u in dict.fromkeys(cmd.users) if u not in work.watchers)
    if not users:
        raise CommandRejected("no_one_to_copy", "everyone named already follows this instance")
    work.watchers = work.watchers + users
    node = work.tasks[cmd.task].node if cmd.task else None
    work.effects.append(Notify(users, "cc", node=node, task=cmd.task))
    work.event("cc", node, cmd.task, users=list(users))


def comment(work: Work, cmd: Comment) -> None:
    if cmd.task is not None:
        task = held_task(work, cmd.task, "comment")
        node = task.node
    else:
        involved = {work.base.initiator, *work.watchers}
        for t in work.tasks.values():
            involved.update(x for x in (t.assignee, t.owner) if x)
            involved.update(t.candidates)
        if work.actor not in involved and not _admin(work):
            raise CommandRejected("not_allowed", f"{work.actor} takes no part in this instance")
        node = None
    if not cmd.text.strip():
        raise CommandRejected("empty_comment", "write something to comment")
    work.event("comment", node, cmd.task, text=cmd.text)


def _admin(work: Work) -> bool:
    return any(work.ctx.directory.has_role(work.actor, r) for r in work.flow.roles)
