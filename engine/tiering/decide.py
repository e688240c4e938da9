"""Tier one subject under a Tiering (dsl/kinds/tiering.Tiering), over its context.

Each dimension's score is evaluated on the subject (its fields, collections, `$now`); `score` is
their weighted total when the dimensions have weights. The decision table's rules read the
scores, `score`, `alert_grade` and the subject's fields; the hit policy picks the tier; then
each cap that holds lowers it to at most its tier (the lowest such tier wins).

A subject the data cannot tier — a dimension that is null or cannot be evaluated, a rule or cap
that cannot be evaluated, a table the policy refuses for it — gets no tier and says why
(`problem`): its tier must not fall silently into a catch-all."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterator, Mapping

from dsl.expr import EvaluationError
from dsl.ir import Label

from .table import Hit, TableProblem, apply_policy


@dataclass(frozen=True)
class DimensionScore:
    name: str
    label: Label
    weight: Decimal | None
    value: Decimal | None            # None: null, or could not be evaluated (`error`)
    error: str | None = None         # the expression's text when evaluating it failed


@dataclass(frozen=True)
class RuleCheck:
    index: int                       # its place in the table (or among the caps), from 0
    tier: str                        # the rule's tier, or the cap's `at_most`
    label: Label                     # the rule's label, or the cap's reason
    held: bool | None                # None: null, or could not be evaluated
    decisive: bool = False           # this rule chose the tier (this cap lowered it)
    error: str | None = None


@dataclass(frozen=True)
class TierResult:
    tiering: str
    tier: str | None                 # None: not tiered (see `problem`)
    table_tier: str | None           # the table's answer, before caps
    score: Decimal | None            # the weighted score (None without weights)
    alert_grade: str | None
    dimensions: tuple[DimensionScore, ...]
    rules: tuple[RuleCheck, ...]
    caps: tuple[RuleCheck, ...]
    problem: str | None = None       # dimension_failed | rule_failed | no_rule | not_unique | disagree
    problem_rules: tuple[int, ...] = ()

    @property
    def decisive_rule(self) -> RuleCheck | None:
        return next((r for r in self.rules if r.decisive), None)

    @property
    def decisive_cap(self) -> RuleCheck | None:
        return next((c for c in self.caps if c.decisive), None)

    @property
    def reason(self) -> Label:
        """In words: the row that hit, and the cap that lowered it."""
        rule, cap = self.decisive_rule, self.decisive_cap
        parts = [x.label for x in (rule, cap) if x is not None and (x.label.zh or x.label.en)]
        return Label("；".join(p.text("zh") for p in parts) or None, "; ".join(p.text("en") for p in parts) or None)


class TableScope(Mapping[str, Any]):
    """What a table rule reads: the scores, `score` and `alert_grade` first, then the subject."""

    def __init__(self, ctx: Mapping[str, Any], extra: Mapping[str, Any]):
        self.ctx, self.extra = ctx, extra

    def __getitem__(self, name: str) -> Any:
        return self.extra[name] if name in self.extra else self.ctx[name]

    def __iter__(self) -> Iterator[str]:
        yield from self.extra
        yield from (k for k in self.ctx if k not in self.extra)

    def __len__(self) -> int:
        return len(set(self.extra) | set(self.ctx))


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _check(expr: Any, scope: Mapping[str, Any]) -> tuple[bool | None, str | None]:
    if expr is None:
        return True, None                       # no `when`: always
    try:
        value = expr(scope)
    except EvaluationError:
        return None, getattr(expr, "text", "")
    return (None if value is None else value is True), None


def tier_subject(tiering: Any, ctx: Mapping[str, Any], alert_grade: str | None = None, *,
                 every_rule: bool = False) -> TierResult:
    """`tiering` over one subject's context `ctx`; `alert_grade`: its worst open alert grade.
    Under `first` and `rule_order` the rows after the one that holds are not evaluated (held
    None) unless `every_rule` (explain: why each other row did not hold)."""
    dims: list[DimensionScore] = []
    for d in tiering.dimensions:
        try:
            dims.append(DimensionScore(d.name, d.label, d.weight, _number(d.score(ctx))))
        except EvaluationError:
            dims.append(DimensionScore(d.name, d.label, d.weight, None, getattr(d.score, "text", "")))
    scored = all(d.value is not None for d in dims)
    score = None
    if scored and tiering.weighted:
        score = sum(((d.value or Decimal(0)) * (d.weight or Decimal(0)) / 100 for d in dims), Decimal(0))
    extra: dict[str, Any] = {d.name: d.value for d in dims}
    extra.update(score=score, alert_grade=alert_grade)
    scope = TableScope(ctx, extra)

    def result(tier: str | None, table_tier: str | None, rules: list[RuleCheck], caps: list[RuleCheck],
               problem: str | None = None, problem_rules: tuple[int, ...] = ()) -> TierResult:
        return TierResult(tiering.name, tier, table_tier, score, alert_grade, tuple(dims), tuple(rules),
                          tuple(caps), problem, problem_rules)

    checks = []
    stop = not every_rule and tiering.hit_policy in ("first", "rule_order")
    found = False
    for i, r in enumerate(tiering.rules):
        held, error = _check(r.when, scope) if scored and not found else (None, None)
        checks.append(RuleCheck(i, r.tier, r.label, held, error=error))
        found = stop and held is True
    if not scored:
        return result(None, None, checks, [], "dimension_failed")
    failed = tuple(c.index for c in checks if c.error is not None)
    if failed:
        return result(None, None, checks, [], "rule_failed", failed)
    rank = {t.name: t.rank for t in tiering.tiers}
    try:
        table_tier, decided = apply_policy(tiering.hit_policy, tiering.aggregate,
                                           [Hit(c.index, c.tier) for c in checks if c.held], rank.__getitem__)
    except TableProblem as problem:
        return result(None, None, checks, [], problem.code, problem.rules)
    checks = [RuleCheck(c.index, c.tier, c.label, c.held, c.index in decided, c.error) for c in checks]
    caps = []
    for i, c in enumerate(tiering.caps):
        held, error = _check(c.when, scope)
        caps.append(RuleCheck(i, c.at_most, c.reason, held, error=error))
    failed = tuple(c.index for c in caps if c.error is not None)
    if failed:
        return result(None, table_tier, checks, caps, "cap_failed", failed)
    tier = table_tier
    lowering = [c for c in caps if c.held and rank[c.tier] > rank[tier]]
    if lowering:
        cap = max(lowering, key=lambda c: (rank[c.tier], -c.index))
        tier = cap.tier
        caps = [RuleCheck(c.index, c.tier, c.label, c.held, c is cap, c.error) for c in caps]
    return result(tier, table_tier, checks, caps)
