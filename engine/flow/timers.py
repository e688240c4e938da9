"""What time and the outside world bring: a timer fired (deadline, reminder, escalation level,
the end of a wait), a business event a wait step listens for, a subflow's end."""
from __future__ import annotations

from dataclasses import replace

from dsl.kinds.flow.ir import SubflowNode, TaskNode, WaitNode

from .commands import EventOccurred, SubflowEnded, TimerFired
from .effects import Notify, SetFields
from .errors import CommandRejected
from .routing import advance, relocate
from .state import Task, Token
from .steps import four_eyes
from .votes import pass_step, reject_step
from .work import Work


def timer_fired(work: Work, cmd: TimerFired) -> None:
    timer = work.timers.get(cmd.timer)
    if timer is None:
        raise CommandRejected("unknown_timer", f"timer {cmd.timer} is not armed (its step is over)")
    del work.timers[timer.id]
    token = work.tokens[timer.token]
    node = work.plan.nodes[token.node]
    assert isinstance(node, (TaskNode, SubflowNode, WaitNode))   # the nodes a token rests at
    work.event("timer", node.id, timer=timer.kind, level=timer.level)
    timing = node.timing
    if timer.kind == "wait":
        work.drop_token(token.id, "wait over")
        advance(work, node.next, token.scopes)
    elif timer.kind == "remind":
        r = timing.reminders
        _tell(work, token.id, "reminder", r.channels if r else ())
        every = (r.every.amount, r.every.unit) if r is not None and r.every is not None else \
            (1, "business_days") if timing.on_timeout == "remind" else None
        if every is not None and (r is None or r.max is None or timer.level < r.max):
            work.set_timer(token.id, "remind", work.ctx.calendar.add(timer.at, *every), timer.level + 1)
    elif timer.kind == "escalate":
        _escalate(work, token, node, timer.level)
    elif timing.on_timeout == "auto_approve":
        work.event("timeout_approved", node.id)
        pass_step(work, token.id, by=())
    elif timing.on_timeout == "auto_reject":
        work.event("timeout_rejected", node.id)
        reject_step(work, token.id)
    elif timing.on_timeout == "goto":
        assert timing.timeout_goto is not None    # the compiler gives `goto` its target
        relocate(work, token, timing.timeout_goto, "timed out")
    else:
        _tell(work, token.id, "overdue", ())
        pending = any(t.token == token.id and t.kind == "remind" for t in work.timers.values())
        if timing.on_timeout == "remind" and not pending:
            work.set_timer(token.id, "remind", work.ctx.calendar.add(timer.at, 1, "business_days"), 1)


def _tell(work: Work, token_id: str, template: str, channels: tuple[str, ...]) -> None:
    for t in work.tasks_of_token(token_id):
        if not t.held:
            users = (t.assignee,) if t.assignee else t.candidates
            work.effects.append(Notify(users, template, tuple(channels), node=t.node, task=t.id))


def _escalate(work: Work, token: Token, node: TaskNode | SubflowNode | WaitNode, level: int) -> None:
    esc = node.timing.escalation[level]
    initiator = work.base.initiator if four_eyes(node, work.base.initiator) else None
    users = [u for u in work.users(esc.to) if u != initiator]
    work.event("escalated", node.id, level=level, to=users, action=esc.action)
    if not users or token.step is None or esc.action == "notify":
        work.effects.append(Notify(tuple(users), "escalation", esc.channels, node=node.id))
        return
    step = token.step
    fresh = [u for u in users if u not in step.signers and not step.voted(u)]
    if esc.action == "reassign" and step.mode == "single":
        for t in work.tasks_of_token(token.id):
            pool = len(users) > 1
            work.update_task(replace(t, assignee=None if pool else users[0], candidates=tuple(users) if pool else (),
                                     owner=None, held=False))
        work.tokens[token.id] = replace(token, step=replace(step, signers=tuple(users)))
    elif fresh:                        # add_signer (and reassign on a countersign): they join in parallel
        mode = "all" if step.mode == "single" else step.mode
        work.tokens[token.id] = replace(token, step=replace(step, mode=mode, signers=step.signers + tuple(fresh)))
        for user in fresh:
            work.add_task(Task(work.task_id(), token.id, node.id, user))
    work.effects.append(Notify(tuple(users), "escalation", esc.channels, node=node.id))


def event_occurred(work: Work, cmd: EventOccurred) -> None:
    waiting = []
    for token in work.tokens.values():
        node = work.plan.nodes[token.node]
        if isinstance(node, WaitNode) and node.event == cmd.event:
            if node.where is None or work.evaluate(node.where, {"event": cmd.record}) is True:
                waiting.append(token)
    if not waiting:
        raise CommandRejected("not_waiting", f"no step of this instance waits for `{cmd.event}` (or this one does "
                                             "not match its condition)")
    for token in waiting:
        if work.running and token.id in work.tokens:
            work.event("event_received", token.node, event=cmd.event)
            work.drop_token(token.id, "event came")
            advance(work, work.plan.nodes[token.node].next, token.scopes)


def subflow_ended(work: Work, cmd: SubflowEnded) -> None:
    token = work.tokens.get(cmd.call)
    node = work.plan.nodes[token.node] if token is not None else None
    if token is None or not isinstance(node, SubflowNode):
        raise CommandRejected("unknown_call", f"no subflow call {cmd.call} is running in this instance")
    extra = {"outcome": cmd.outcome, "result": dict(cmd.result)}
    values = {key: work.evaluate(expr, extra) for key, expr in node.output}
    if values:
        work.set_form(values)
        work.effects.append(SetFields(values))
    work.event("subflow_ended", node.id, call=cmd.call, outcome=cmd.outcome)
    work.drop_token(token.id, "subflow ended", call_over=True)
    advance(work, node.next, token.scopes)
