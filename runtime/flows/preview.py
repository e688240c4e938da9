"""Route preview — "who approves this if I submit now": the engine runs the draft in memory,
with the real directory, subject and calendar, and every step passes as soon as it opens, so
the preview lists the steps in the order they would open (steps opened together share a
`round`), who would hold each, and the outcome. Nothing is written.

The first round is exact. Later rounds assume every step approves and nobody edits the form,
so a branch on a field filled later is taken as the draft says; the answer says so."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from engine.flow import CommandRejected, Comment, FlowContext, Start, apply
from engine.flow.moves import prune
from engine.flow.plan import plan_for
from engine.flow.votes import pass_step
from engine.flow.work import Work

MAX_ROUNDS = 100
PREVIEW_ID = "preview"


def preview(flow: Any, form: Mapping[str, Any], ctx: FlowContext, actor: str, now: datetime) -> dict:
    out: dict[str, Any] = {"flow": flow.name, "steps": [], "outcome": None, "stopped": None,
                           "assumes": "every step approves and the form stays as drafted"}
    try:
        state = apply(flow, None, Start(actor=actor, now=now, instance=PREVIEW_ID, form=dict(form)), ctx).state
    except CommandRejected as exc:
        out["stopped"] = {"code": exc.code, "message": exc.message, "node": None}
        return out
    nodes = flow.by_id
    for round_no in range(1, MAX_ROUNDS + 1):
        if not state.running:
            break
        waiting = sorted(state.tokens.values(), key=lambda t: int(t.id[1:]) if t.id[1:].isdigit() else 0)
        for tok in waiting:
            out["steps"].append(_step(nodes[tok.node], tok, state, round_no))
        work = Work(plan_for(flow), state, Comment(actor=actor, now=now, text="preview"), ctx)
        try:
            for tok in waiting:
                if work.running and tok.id in work.tokens:
                    pass_step(work, tok.id, by=())
            prune(work)
        except CommandRejected as exc:
            out["stopped"] = {"code": exc.code, "message": exc.message, "node": waiting[0].node if waiting else None}
            return out
        state = work.freeze()
    if not state.running:
        out["outcome"] = state.outcome
    elif state.tokens:
        out["stopped"] = {"code": "too_long", "message": f"more than {MAX_ROUNDS} rounds of steps", "node": None}
    return out


def _step(node: Any, tok: Any, state: Any, round_no: int) -> dict:
    step = {"round": round_no, "node": node.id, "type": node.type,
            "label": {"zh": node.label.zh, "en": node.label.en}}
    if tok.step is not None:
        people: list[str] = []
        for t in state.tasks.values():
            if t.token == tok.id:
                people += [t.assignee] if t.assignee else list(t.candidates)
        people += [u for u in tok.step.queue if u not in people]
        step.update(mode=tok.step.mode, assignees=list(dict.fromkeys(people)),
                    due=tok.due.isoformat() if tok.due else None)
    elif node.type == "subflow":
        step["flow"] = node.flow
    return step
