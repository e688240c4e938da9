"""Route preview — "who approves this if I submit now": the draft runs in memory with the
real directory, subject and calendar, and every step passes as soon as it opens, so the
preview lists the steps in the order they would open (steps opened together share a round),
who would hold each, and the outcome. Nothing leaves this function but the answer.

The first round is exact. Later rounds assume every step approves and nobody edits the form,
so a branch on a field filled later is taken as the draft says (`ASSUMES`)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from dsl.ir import Label

from .apply import apply
from .commands import Comment, Start
from .errors import CommandRejected
from .moves import prune
from .plan import plan_for
from .state import FlowInstance, Token
from .votes import pass_step
from .work import FlowContext, Work

MAX_ROUNDS = 100
PREVIEW_ID = "preview"
ASSUMES = "every step approves and the form stays as drafted"


@dataclass(frozen=True)
class PreviewStep:
    """One step as it would open. `assignees` is None for a node that is not a step of people."""

    round: int
    node: str
    type: str
    label: Label
    mode: str | None = None
    assignees: tuple[str, ...] | None = None
    due: datetime | None = None
    subflow: str | None = None


@dataclass(frozen=True)
class Stopped:
    """Why the preview could not run to the end: the engine's refusal code and words, and the
    step it stopped at (None: before the first step)."""

    code: str
    message: str
    node: str | None = None


@dataclass(frozen=True)
class RoutePreview:
    flow: str
    steps: tuple[PreviewStep, ...]
    outcome: str | None = None
    stopped: Stopped | None = None


def route_preview(flow: Any, form: Mapping[str, Any], ctx: FlowContext, actor: str, now: datetime) -> RoutePreview:
    """The steps `actor`'s draft `form` would open, round by round, and how it would end."""
    try:
        state = apply(flow, None, Start(actor=actor, now=now, instance=PREVIEW_ID, form=dict(form)), ctx).state
    except CommandRejected as exc:
        return RoutePreview(flow.name, (), stopped=Stopped(exc.code, exc.message))
    steps: list[PreviewStep] = []
    plan = plan_for(flow)
    for round_no in range(1, MAX_ROUNDS + 1):
        if not state.running:
            break
        waiting = sorted(state.tokens.values(), key=_token_order)
        steps += [_step(plan.nodes[tok.node], tok, state, round_no) for tok in waiting]
        work = Work(plan, state, Comment(actor=actor, now=now, text="preview"), ctx)
        try:
            for tok in waiting:
                if work.running and tok.id in work.tokens:
                    pass_step(work, tok.id, by=())
            prune(work)
        except CommandRejected as exc:
            stopped = Stopped(exc.code, exc.message, waiting[0].node if waiting else None)
            return RoutePreview(flow.name, tuple(steps), stopped=stopped)
        state = work.freeze()
    if not state.running:
        return RoutePreview(flow.name, tuple(steps), outcome=state.outcome)
    if state.tokens:
        too_long = Stopped("too_long", f"more than {MAX_ROUNDS} rounds of steps")
        return RoutePreview(flow.name, tuple(steps), stopped=too_long)
    return RoutePreview(flow.name, tuple(steps))


def _token_order(tok: Token) -> int:
    """Tokens in the order they were made (`t12` after `t3`)."""
    return int(tok.id[1:]) if tok.id[1:].isdigit() else 0


def _step(node: Any, tok: Token, state: FlowInstance, round_no: int) -> PreviewStep:
    if tok.step is not None:
        people: list[str] = []
        for t in state.tasks.values():
            if t.token == tok.id:
                people += [t.assignee] if t.assignee else list(t.candidates)
        people += [u for u in tok.step.queue if u not in people]
        return PreviewStep(round_no, node.id, node.type, node.label, mode=tok.step.mode,
                           assignees=tuple(dict.fromkeys(people)), due=tok.due)
    return PreviewStep(round_no, node.id, node.type, node.label,
                       subflow=node.flow if node.type == "subflow" else None)
