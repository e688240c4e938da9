"""`apply(flow, state, command, ctx) -> Result`: the flow engine's one entry point.

Pure: the same inputs give the same result; the given state is never changed; a refused
command raises CommandRejected and produces nothing."""
from __future__ import annotations

from typing import Any, Callable

from dsl.kinds.flow.ir import Flow

from . import commands as c
from .effects import Result
from .errors import CommandRejected
from .moves import START, cancel, give_back, prune, resubmit, withdraw
from .people import add_signer, cc, comment, delegate, remove_signer, transfer, urge
from .plan import FlowPlan, plan_for
from .routing import advance
from .state import FlowInstance, Handoff
from .timers import event_occurred, subflow_ended, timer_fired
from .votes import claim, vote
from .work import FlowContext, Work

# Keyed by the command's exact type: each handler takes that type (hence `Any` for the command).
HANDLERS: dict[type[c.Command], Callable[[Work, Any], None]] = {
    c.Claim: claim,
    c.Approve: lambda w, cmd: vote(w, cmd, "approve"),
    c.Reject: lambda w, cmd: vote(w, cmd, "reject"),
    c.Complete: lambda w, cmd: vote(w, cmd, "complete"),
    c.Return: give_back, c.Resubmit: resubmit, c.Withdraw: withdraw, c.Cancel: cancel,
    c.Transfer: transfer, c.Delegate: delegate, c.AddSigner: add_signer, c.RemoveSigner: remove_signer,
    c.Urge: urge, c.Cc: cc, c.Comment: comment,
    c.TimerFired: timer_fired, c.EventOccurred: event_occurred, c.SubflowEnded: subflow_ended,
}
# the decisions, called straight (the common path: one frame less than through HANDLERS)
VERDICTS: dict[type[c.Command], str] = {c.Approve: "approve", c.Reject: "reject", c.Complete: "complete"}


def apply(flow: Flow, state: FlowInstance | None, command: c.Command, ctx: FlowContext) -> Result:
    plan = plan_for(flow)
    kind = type(command)
    verdict = VERDICTS.get(kind)
    if verdict is None and isinstance(command, c.Start):
        return _start(plan, state, command, ctx)
    if state is None:
        raise CommandRejected("not_started", "start the instance first")
    if state.flow != plan.name:
        raise CommandRejected("wrong_flow", f"instance {state.id} runs flow `{state.flow}`, not `{flow.name}`")
    if command.expected_version is not None and command.expected_version != state.version:
        raise CommandRejected("stale_version", f"instance {state.id} is at version {state.version}, the command "
                                               f"expected {command.expected_version}: reload and try again")
    if not state.running:
        raise CommandRejected("not_running", f"instance {state.id} is {state.status} ({state.outcome})")
    if verdict is not None:
        work = Work(plan, state, command, ctx)
        decision: Any = command                  # an Approve, Reject or Complete (VERDICTS)
        vote(work, decision, verdict)
        return _result(work)
    handler = HANDLERS.get(kind)
    if handler is None:
        raise CommandRejected("unknown_command", f"{kind.__name__} is not a flow command")
    work = Work(plan, state, command, ctx)
    handler(work, command)
    return _result(work)


def _start(plan: FlowPlan, state: FlowInstance | None, cmd: c.Start, ctx: FlowContext) -> Result:
    if state is not None:
        raise CommandRejected("already_started", f"instance {state.id} has already started")
    flow = plan.flow
    base = FlowInstance(cmd.instance, flow.name, cmd.actor, cmd.now, form=dict(cmd.form))
    work = Work(plan, base, cmd, ctx)
    if flow.start_who is not None and cmd.actor not in work.users(flow.start_who):
        raise CommandRejected("not_allowed", f"{cmd.actor} may not start `{flow.name}` ({flow.start_who.text})")
    work.event("started", form=dict(cmd.form))
    route = advance(work, flow.first, ())
    if work.running and not route.closed:
        work.handoffs.append(Handoff(START, (cmd.actor,), (), None, tuple(route.tokens), tuple(route.arrivals),
                                     tuple(route.splits)))
    return _result(work)


def _result(work: Work) -> Result:
    prune(work)
    if work.running and not work.tokens:
        raise CommandRejected("no_route", "this would leave the instance with nothing to do and no end")
    return Result(work.freeze(), tuple(work.effects), tuple(work.events))
