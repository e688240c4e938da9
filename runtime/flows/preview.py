"""Route preview as the API and the start page show it: the engine's pure `route_preview`
(engine/flow/preview.py) run on the real directory, subject and calendar, turned into JSON —
the steps in the order they would open (steps opened together share a `round`), who would
hold each, and the outcome, or where and why it stopped. Nothing is written.

A flow whose branches compare the concentration functions with a limit (`group_credit_ratio(subject,
form.amount) > 15%`, engine/functions.py) also gets `concentration`: each ratio the draft would give
against the limit the YAML writes, whether it is over, and the capital figure used."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from dsl.bank_time import bank_today
from dsl.errors import BanyanError
from dsl.expr import ast
from dsl.expr.runtime import NOW_KEY
from engine.flow import FlowContext
from engine.flow.preview import ASSUMES, PreviewStep, RoutePreview, route_preview
from engine.functions import GRAPH_KEY, connected_credit_ratio, group_credit_ratio, single_borrower_ratio


def preview(flow: Any, form: Mapping[str, Any], ctx: FlowContext, actor: str, now: datetime) -> dict:
    found = preview_json(route_preview(flow, form, ctx, actor, now))
    limits = concentration_limits(flow)
    if limits:
        found["concentration"] = concentration_json(limits, form, ctx, now)
    return found


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


# -- concentration before approval, against the limits the flow's branches write ----------------
RATIOS = {"group_credit_ratio": ("group", group_credit_ratio), "single_borrower_ratio": ("single", single_borrower_ratio),
          "connected_credit_ratio": ("connected", connected_credit_ratio)}


def concentration_limits(flow: Any) -> list[tuple[str, str, Any, ast.Call]]:
    """(kind, operator, limit, the call) for each `ratio(…) > limit` (or `>=`) in the flow's branch
    conditions, in the order written, each kind once."""
    found: dict[str, tuple[str, str, Any, ast.Call]] = {}
    for node in flow.nodes:
        for case in getattr(node, "cases", ()):
            checked = getattr(case.when, "checked", None)
            if checked is None:
                continue
            for x in ast.walk(checked.root):
                if (isinstance(x, ast.Compare) and x.op in (">", ">=") and isinstance(x.left, ast.Call)
                        and x.left.name in RATIOS and isinstance(x.right, ast.Literal)):
                    kind = RATIOS[x.left.name][0]
                    found.setdefault(kind, (kind, x.op, x.right.value, x.left))
    return list(found.values())


def _argument(node: ast.Node, form: Mapping[str, Any], ctx: FlowContext) -> tuple[bool, Any]:
    """A call's argument when it is `subject` or `form.<field>` (what a route writes); (False, None)
    for anything else, which the preview does not evaluate on its own."""
    if isinstance(node, ast.Name) and node.name == "subject":
        return True, ctx.subject
    if isinstance(node, ast.Field) and isinstance(node.obj, ast.Name) and node.obj.name == "form":
        return True, form.get(node.name)
    return False, None


def concentration_json(limits: list, form: Mapping[str, Any], ctx: FlowContext, now: datetime) -> dict:
    """The ratios of a draft against `limits` (concentration_limits): `ratio` null while the
    amount is not filled in; `problem` the code that stopped them all (no capital figure …)."""
    ratios, problem = [], None
    for kind, op, limit, call in limits:
        args = [_argument(a, form, ctx) for a in call.args]
        value = None
        if all(ok for ok, _ in args) and args and args[0][1] and all(v is not None for _, v in args[1:]):
            try:
                value = RATIOS[call.name][1]({NOW_KEY: now}, *[v for _, v in args])
            except BanyanError as exc:
                problem = getattr(exc, "code", "error")
            except (ValueError, TypeError, ArithmeticError):
                value = None                # a half-filled draft: shown once it can be computed
        ratios.append({"kind": kind, "ratio": None if value is None else str(value), "limit": str(limit), "op": op,
                       "over": value is not None and (value > limit if op == ">" else value >= limit)})
    return {"ratios": ratios, "capital": _capital(ctx, now), "problem": problem}


def _capital(ctx: FlowContext, now: datetime) -> dict | None:
    """The capital figure the ratios were taken against (the latest effective on the bank's day)."""
    subject = ctx.subject
    graph = subject.get(GRAPH_KEY) if isinstance(subject, Mapping) or hasattr(subject, "get") else None
    book = getattr(graph, "exposure", None)
    found = book.capital.on(bank_today(now)) if book is not None else None
    if found is None:
        return None
    return {"key": found.key, "effective_on": found.effective_on.isoformat(), "net_capital": str(found.net_capital),
            "tier1_capital": str(found.tier1_capital), "currency": found.currency}
