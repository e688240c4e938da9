"""Grade one subject under one AlertRule: the highest grade whose condition holds, with the
evidence values and every condition or evidence that could not be evaluated on this data."""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple

from dsl.expr import EvaluationError
from dsl.ir import Label


class Finding(NamedTuple):
    """An immutable value (a named tuple: millions are made in a scan)."""
    grade: str | None                                  # None: no grade holds
    evidence: tuple[tuple[Label, Any], ...] = ()       # (label, value) in the rule's order; None when unknown
    errors: tuple[tuple[str, str], ...] = ()           # (where: grade name or "evidence N", the expression's text)

    @property
    def holds(self) -> bool:
        return self.grade is not None


_QUIET = Finding(None)
_TESTS: dict[int, tuple[Any, tuple[tuple[str, Any, Any], ...]]] = {}


def _tests(rule: Any) -> tuple[tuple[str, Any, Any], ...]:
    """(grade, its condition's bare function, the condition), highest grade first, kept per rule
    object (a deployment's rules live as long as it does; the table is emptied when it grows)."""
    kept = _TESTS.get(id(rule))
    if kept is not None and kept[0] is rule:
        return kept[1]
    if len(_TESTS) > 10_000:
        _TESTS.clear()
    tests = tuple((g.name, getattr(g.when, "evaluate", g.when), g.when) for g in reversed(rule.grades))
    _TESTS[id(rule)] = (rule, tests)
    return tests


def evaluate(rule: Any, ctx: Mapping[str, Any]) -> Finding:
    """`rule` (dsl/kinds/alert_rule.AlertRule) over the subject's context `ctx` (its fields, its
    collections, `$now`). Grades are tried from the highest down; a condition that is null or
    cannot be evaluated on this data does not hold, and the latter is named in `errors` (a rule
    that cannot see its data must not look quiet). Evidence is read only when a grade holds.
    The common answer — nothing holds, nothing failed — is one shared Finding."""
    errors: list[tuple[str, str]] | None = None
    grade = None
    for name, test, when in _tests(rule):
        try:
            held = test(ctx)
        except EvaluationError:
            if errors is None:
                errors = []
            errors.append((name, getattr(when, "text", "")))
            continue
        if held is True:
            grade = name
            break
    if grade is None:
        return _QUIET if errors is None else Finding(None, (), tuple(errors))
    errors = errors or []
    evidence = []
    for i, e in enumerate(rule.evidence):
        try:
            value = e.value(ctx)
        except EvaluationError:
            errors.append((f"evidence {i + 1}", getattr(e.value, "text", "")))
            value = None
        evidence.append((e.label, value))
    return Finding(grade, tuple(evidence), tuple(errors))
