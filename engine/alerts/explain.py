"""Why a subject has the grade it has under an AlertRule: every grade's condition traced (the
value of each sub-expression, from dsl/expr/trace's tracing compilation of the same checked
tree), the evidence, and the near misses — for each grade that does not hold, the comparisons
that kept it from holding, with the value, the threshold and how far apart they are."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping, TypeGuard

from dsl.expr import EvaluationError
from dsl.expr import ast as east
from dsl.expr.trace import Trace, traced

from .evaluate import Finding, evaluate

_ORDERED = (">", ">=", "<", "<=")


@dataclass(frozen=True)
class NearMiss:
    """`value op threshold` was false: `gap` is how far the value must move to make it true."""
    text: str                        # the comparison as written
    left: str                        # the side that moves, as written
    value: Any
    op: str
    threshold: Any
    gap: Any
    type: str                        # the compared values' type (percent, money …)


@dataclass(frozen=True)
class GradeTrace:
    grade: str
    holds: bool | None               # None: the condition is null, or could not be evaluated
    trace: Trace
    near: tuple[NearMiss, ...]


@dataclass(frozen=True)
class Explanation:
    rule: str
    finding: Finding                 # what the evaluator decides (the grade, the evidence)
    grades: tuple[GradeTrace, ...]   # highest grade first
    evidence: tuple[tuple[Any, Any, str | None], ...]   # (label, value, error) in the rule's order
    evidence_types: tuple[str, ...] = ()                 # each evidence expression's type (percent, money …)


def _number(v: Any) -> TypeGuard[int | Decimal]:
    return isinstance(v, (int, Decimal)) and not isinstance(v, bool)


def near_misses(trace: Trace) -> tuple[NearMiss, ...]:
    """The comparisons of numbers that came out false (outside lambdas), with the distance."""
    values = {id(s.node): s for s in trace.steps}
    out = []
    for step in trace.steps:
        node = step.node
        if not isinstance(node, east.Compare) or step.value is not False or node.op not in _ORDERED:
            continue
        left, right = values.get(id(node.left)), values.get(id(node.right))
        lv = left.value if left is not None else getattr(node.left, "value", None)
        rv = right.value if right is not None else getattr(node.right, "value", None)
        if not (_number(lv) and _number(rv)):
            continue
        gap = abs(Decimal(rv) - Decimal(lv))
        kind = left.type if left is not None else (right.type if right is not None else "")
        out.append(NearMiss(step.text, left.text if left is not None else str(lv), lv, node.op, rv, gap, kind))
    return tuple(out)


def explain(rule: Any, ctx: Mapping[str, Any]) -> Explanation:
    """`rule` over the subject's context `ctx`, as `evaluate` sees it, with the reasons."""
    finding = evaluate(rule, ctx)
    grades: list[GradeTrace] = []
    for g in reversed(rule.grades):
        trace = traced(g.when).run(ctx)
        holds = None if trace.error is not None or trace.value is None else trace.value is True
        grades.append(GradeTrace(g.name, holds, trace, () if holds else near_misses(trace)))
    evidence: list[tuple[Any, Any, str | None]] = []
    for e in rule.evidence:
        try:
            evidence.append((e.label, e.value(ctx), None))
        except EvaluationError as exc:
            evidence.append((e.label, None, str(exc)))
    types = tuple(getattr(getattr(e.value, "type", None), "name", "") or "" for e in rule.evidence)
    return Explanation(rule.name, finding, tuple(grades), tuple(evidence), types)
