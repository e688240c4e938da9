"""Route preview as the API and the start page show it: the engine's pure `route_preview`
(engine/flow/preview.py) run on the real directory, subject and calendar, turned into JSON —
the steps in the order they would open (steps opened together share a `round`), who would
hold each, and the outcome, or where and why it stopped. Nothing is written."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from engine.flow import FlowContext
from engine.flow.preview import ASSUMES, PreviewStep, RoutePreview, route_preview


def preview(flow: Any, form: Mapping[str, Any], ctx: FlowContext, actor: str, now: datetime) -> dict:
    return preview_json(route_preview(flow, form, ctx, actor, now))


def preview_json(found: RoutePreview) -> dict:
    stopped = found.stopped
    return {"flow": found.flow, "steps": [_step_json(s) for s in found.steps], "outcome": found.outcome,
            "stopped": None if stopped is None else {"code": stopped.code, "message": stopped.message,
                                                     "node": stopped.node},
            "assumes": ASSUMES}


def _step_json(step: PreviewStep) -> dict:
    out: dict[str, Any] = {"round": step.round, "node": step.node, "type": step.type,
                           "label": {"zh": step.label.zh, "en": step.label.en}}
    if step.assignees is not None:
        out.update(mode=step.mode, assignees=list(step.assignees),
                   due=step.due.isoformat() if step.due else None)
    elif step.subflow is not None:
        out["flow"] = step.subflow
    return out
