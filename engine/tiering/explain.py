"""Why a subject has its tier: every dimension's score with its trace, each table rule's
condition traced (the value of every sub-expression, from dsl/expr/trace's tracing compilation
of the same checked tree) with its near misses, and each cap's — the rule that hit, and for the
others why they did not."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from dsl.expr.trace import Trace, traced
from engine.alerts.explain import NearMiss, near_misses

from .decide import TableScope, TierResult, tier_subject


@dataclass(frozen=True)
class ConditionTrace:
    index: int
    trace: Trace | None              # None: a rule with no `when` (always holds)
    near: tuple[NearMiss, ...]


@dataclass(frozen=True)
class TierExplanation:
    result: TierResult
    dimensions: tuple[Trace | None, ...]      # each dimension's score, traced (None: no expression)
    rules: tuple[ConditionTrace, ...]
    caps: tuple[ConditionTrace, ...]


def _traced(index: int, expr: Any, scope: Mapping[str, Any], held: bool | None) -> ConditionTrace:
    if expr is None:
        return ConditionTrace(index, None, ())
    trace = traced(expr).run(scope)
    return ConditionTrace(index, trace, () if held else near_misses(trace))


def explain(tiering: Any, ctx: Mapping[str, Any], alert_grade: str | None = None) -> TierExplanation:
    result = tier_subject(tiering, ctx, alert_grade, every_rule=True)
    dims = tuple(traced(d.score).run(ctx) if d.score is not None else None for d in tiering.dimensions)
    extra: dict[str, Any] = {d.name: d.value for d in result.dimensions}
    extra.update(score=result.score, alert_grade=alert_grade)
    scope = TableScope(ctx, extra)
    rules = tuple(_traced(c.index, r.when, scope, c.held) for c, r in zip(result.rules, tiering.rules))
    caps = tuple(_traced(c.index, cap.when, scope, c.held) for c, cap in zip(result.caps, tiering.caps))
    return TierExplanation(result, dims, rules, caps)
