"""Grade one subject under one AlertRule: the highest grade whose condition holds, with the
evidence values and every condition or evidence that could not be evaluated on this data."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from dsl.expr import EvaluationError
from dsl.ir import Label


@dataclass(frozen=True)
class Finding:
    grade: str | None                                  # None: no grade holds
    evidence: tuple[tuple[Label, Any], ...] = ()       # (label, value) in the rule's order; None when unknown
    errors: tuple[tuple[str, str], ...] = ()           # (where: grade name or "evidence N", the expression's text)

    @property
    def holds(self) -> bool:
        return self.grade is not None


def _value(expr: Any, ctx: Mapping[str, Any]) -> Any:
    return expr(ctx)


def evaluate(rule: Any, ctx: Mapping[str, Any]) -> Finding:
    """`rule` (dsl/kinds/alert_rule.AlertRule) over the subject's context `ctx` (its fields, its
    collections, `$now`). Grades are tried from the highest down; a condition that is null or
    cannot be evaluated on this data does not hold, and the latter is named in `errors` (a rule
    that cannot see its data must not look quiet). Evidence is read only when a grade holds."""
    errors: list[tuple[str, str]] = []
    grade = None
    for g in reversed(rule.grades):
        try:
            held = _value(g.when, ctx)
        except EvaluationError:
            errors.append((g.name, getattr(g.when, "text", "")))
            continue
        if held is True:
            grade = g.name
            break
    if grade is None:
        return Finding(None, (), tuple(errors))
    evidence = []
    for i, e in enumerate(rule.evidence):
        try:
            value = _value(e.value, ctx)
        except EvaluationError:
            errors.append((f"evidence {i + 1}", getattr(e.value, "text", "")))
            value = None
        evidence.append((e.label, value))
    return Finding(grade, tuple(evidence), tuple(errors))
