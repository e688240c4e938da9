"""Functions the engine adds to the expression language, declared to dsl/ through the
`banyan.functions` entry point (pyproject.toml), so dsl/ never imports engine/.

Graph facts come from the evaluation context, which the runtime fills:
- `$graph`: a `engine.graph.GraphSnapshot` of the bank's equity and guarantee edges, keyed
  by firm key (the company's `credit_code`);
- `$contagion`: a `ContagionResult` for the current set of distressed firms.
Without them a graph function is null ("not known"), so a rule built on it does not fire.

    in_guarantee_circle(credit_code)         bool     the firm is in a guarantee circle (担保圈)
    circle_size(credit_code)                 integer  firms in its circle, 0 when none
    mutual_guarantee(credit_code)            bool     it guarantees a firm that guarantees it back
    controller(credit_code)                  string   the ultimate controller's key, null if none
    effective_share(holder, credit_code)     percent  look-through ownership, all layers
    contagion_score(credit_code)             number   0..1, risk reaching it from distressed firms
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Mapping

from dsl.expr import functions
from dsl.expr.functions import Signature
from dsl.expr.types import BOOL, INTEGER, NUMBER, PERCENT, STRING

if TYPE_CHECKING:                 # the graph (numpy, scipy) loads only when the runtime passes one in
    from engine.graph.contagion import ContagionResult
    from engine.graph.snapshot import GraphSnapshot

GRAPH_KEY = "$graph"
CONTAGION_KEY = "$contagion"
_PLACES = Decimal("0.000001")


def _graph(ctx: Mapping[str, Any]) -> GraphSnapshot | None:
    return ctx.get(GRAPH_KEY)


def in_guarantee_circle(ctx: Mapping[str, Any], firm: str) -> bool | None:
    g = _graph(ctx)
    return None if g is None else g.in_guarantee_circle(firm)


def circle_size(ctx: Mapping[str, Any], firm: str) -> int | None:
    g = _graph(ctx)
    return None if g is None else g.circle_size(firm)


def mutual_guarantee(ctx: Mapping[str, Any], firm: str) -> bool | None:
    g = _graph(ctx)
    if g is None:
        return None
    graph = g.guarantees
    if firm not in graph:
        return False
    return any(firm in graph.guarantees_given(other) for other in graph.guarantees_given(firm))


def controller(ctx: Mapping[str, Any], firm: str) -> str | None:
    g = _graph(ctx)
    return None if g is None else g.controller(firm)


def effective_share(ctx: Mapping[str, Any], holder: str, firm: str) -> Decimal | None:
    g = _graph(ctx)
    return None if g is None else Decimal(repr(g.effective_share(holder, firm))).quantize(_PLACES)


def contagion_score(ctx: Mapping[str, Any], firm: str) -> Decimal | None:
    result: ContagionResult | None = ctx.get(CONTAGION_KEY)
    return None if result is None else Decimal(repr(result.score(firm))).quantize(_PLACES)


def register(registry: functions.Registry | None = None) -> None:
    reg = registry or functions.REGISTRY
    one = Signature((STRING,), BOOL)
    for name, impl, sig, doc in (
        ("in_guarantee_circle", in_guarantee_circle, one, "the firm is in a guarantee circle (担保圈)"),
        ("mutual_guarantee", mutual_guarantee, one, "the firm and another guarantee each other (互保)"),
        ("circle_size", circle_size, Signature((STRING,), INTEGER), "firms in its guarantee circle, 0 when none"),
        ("controller", controller, Signature((STRING,), STRING), "the ultimate controller's key (实际控制人)"),
        ("effective_share", effective_share, Signature((STRING, STRING), PERCENT),
         "look-through ownership of holder in firm, over every layer (穿透持股比例)"),
        ("contagion_score", contagion_score, Signature((STRING,), NUMBER),
         "0..1: how much distress reaches the firm through guarantees and control (风险传染)"),
    ):
        if reg.get(name) is None:
            reg.register(name, sig, impl, uses_context=True, doc=doc)


register()
