"""Tier one subject under a Tiering (dsl/kinds/tiering.Tiering), over its context.

Each dimension's score is evaluated on the subject (its fields, collections, `$now`); `score` is
their weighted total when the dimensions have weights. The decision table's rules read the
scores, `score`, `alert_grade` and the subject's fields; the hit policy picks the tier; then
each cap that holds lowers it to at most its tier (the lowest such tier wins).

A subject the data cannot tier — a dimension that is null or cannot be evaluated, a rule or cap
that cannot be evaluated, a table the policy refuses for it — gets no tier and says why
(`problem`): its tier must not fall silently into a catch-all."""
from __future__ import annotations

import weakref
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, Iterator, Mapping, Sequence

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
    computed: str | None = None      # the tier the table and caps gave, when an override replaced it
    override: Label | None = None    # the override's reason (its own words), when one is in force
    override_until: date | None = None

    @property
    def decisive_rule(self) -> RuleCheck | None:
        return next((r for r in self.rules if r.decisive), None)

    @property
    def decisive_cap(self) -> RuleCheck | None:
        return next((c for c in self.caps if c.decisive), None)

    @property
    def reason(self) -> Label:
        """In words: the row that hit, and the cap that lowered it."""
        if self.override is not None:
            zh, en = self.override.zh, self.override.en
            return Label("人工调整" + (f"：{zh}" if zh else ""), "Override" + (f": {en}" if en else ""))
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


PATTERNS = 4096


class _Checks:
    """The RuleChecks of a table's rows (or of its caps). One without an error is a value — its
    row, whether it held, whether it decided — so each is made once per table and shared by every
    subject: a portfolio run makes a handful, not one per row per subject."""

    def __init__(self, rows: Sequence[tuple[str, Label]]):
        self.rows = rows
        self.made: dict[tuple[int, bool | None, bool], RuleCheck] = {}
        self.patterns: dict[tuple[tuple[bool | None, ...], tuple[int, ...]], tuple[RuleCheck, ...]] = {}

    def get(self, i: int, held: bool | None, decisive: bool = False, error: str | None = None) -> RuleCheck:
        if error is not None:
            return RuleCheck(i, self.rows[i][0], self.rows[i][1], held, decisive, error)
        made = self.made.get((i, held, decisive))
        if made is None:
            made = self.made[(i, held, decisive)] = RuleCheck(i, self.rows[i][0], self.rows[i][1], held, decisive)
        return made

    def pattern(self, held: list[bool | None], decided: tuple[int, ...]) -> tuple[RuleCheck, ...]:
        """Every row's check, no errors: the same few patterns recur subject after subject (under
        `first`, one per row that can decide), so they are kept too (up to PATTERNS of them)."""
        key = (tuple(held), decided)
        found = self.patterns.get(key)
        if found is None:
            found = tuple(self.get(i, h, i in decided) for i, h in enumerate(held))
            if len(self.patterns) < PATTERNS:
                self.patterns[key] = found
        return found


_TABLES: dict[int, tuple[Any, _Checks, _Checks, dict[str, int]]] = {}


def _table_of(tiering: Any) -> tuple[_Checks, _Checks, dict[str, int]]:
    """(the rows' checks, the caps' checks, each tier's rank) of `tiering`, kept while it lives."""
    key = id(tiering)
    found = _TABLES.get(key)
    if found is not None and found[0]() is tiering:
        return found[1], found[2], found[3]
    made = (_Checks([(r.tier, r.label) for r in tiering.rules]), _Checks([(c.at_most, c.reason) for c in tiering.caps]),
            {t.name: t.rank for t in tiering.tiers})
    try:
        _TABLES[key] = (weakref.ref(tiering, lambda _: _TABLES.pop(key, None)), *made)
    except TypeError:                  # an object that cannot be weakly referenced: not kept
        pass
    return made


def decide_table(tiering: Any, scope: Mapping[str, Any], *, every_rule: bool = False
                 ) -> tuple[str | None, tuple[RuleCheck, ...], str | None, tuple[int, ...]]:
    """The decision table over `scope` (the dimension scores, `score`, `alert_grade`, then the
    subject) under its hit policy: (the tier or None, each row's check, the problem or None, the
    rows concerned). Under `first` and `rule_order` the rows after the one that holds are not
    evaluated (held None) unless `every_rule`."""
    rows, _, rank = _table_of(tiering)
    stop = not every_rule and tiering.hit_policy in ("first", "rule_order")
    held: list[bool | None] = []
    errors: dict[int, str] = {}
    found = False
    for i, r in enumerate(tiering.rules):
        if found:
            held.append(None)
            continue
        h, error = _check(r.when, scope)
        held.append(h)
        if error is not None:
            errors[i] = error
        found = stop and h is True
    if errors:
        return (None, tuple(rows.get(i, h, False, errors.get(i)) for i, h in enumerate(held)), "rule_failed",
                tuple(errors))
    try:
        tier, decided = apply_policy(tiering.hit_policy, tiering.aggregate,
                                     [Hit(i, rows.rows[i][0]) for i, h in enumerate(held) if h], rank.__getitem__)
    except TableProblem as problem:
        return None, rows.pattern(held, ()), problem.code, problem.rules
    return tier, rows.pattern(held, decided), None, ()


def tier_subject(tiering: Any, ctx: Mapping[str, Any], alert_grade: str | None = None, *,
                 every_rule: bool = False, today: date | None = None) -> TierResult:
    """`tiering` over one subject; an override in force on `today` (the subject's override fields,
    approved by a person) replaces the answer, which is kept as `computed`."""
    result = _tier(tiering, ctx, alert_grade, every_rule)
    o = getattr(tiering, "override", None)
    if o is None:
        return result
    chosen = _field(ctx, o.tier)
    until = _field(ctx, o.until) if o.until else None
    if chosen is None or tiering.tier(chosen) is None or (until is not None and today is not None and until < today):
        return result
    why = _field(ctx, o.reason) if o.reason else None
    return replace(result, tier=chosen, computed=result.tier, override=Label(why or None, why or None),
                   override_until=until, problem=None, problem_rules=())


def _field(ctx: Mapping[str, Any], name: str) -> Any:
    try:
        return ctx[name]
    except KeyError:
        return None


def _tier(tiering: Any, ctx: Mapping[str, Any], alert_grade: str | None, every_rule: bool) -> TierResult:
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

    def result(tier: str | None, table_tier: str | None, rules: Sequence[RuleCheck], caps: list[RuleCheck],
               problem: str | None = None, problem_rules: tuple[int, ...] = ()) -> TierResult:
        return TierResult(tiering.name, tier, table_tier, score, alert_grade, tuple(dims), tuple(rules),
                          tuple(caps), problem, problem_rules)

    rows, cap_checks, rank = _table_of(tiering)
    if not scored:
        return result(None, None, list(rows.pattern([None] * len(tiering.rules), ())), [], "dimension_failed")
    table_tier, checks, problem, concerned = decide_table(tiering, scope, every_rule=every_rule)
    if table_tier is None:
        return result(None, None, checks, [], problem, concerned)
    caps = []
    for i, c in enumerate(tiering.caps):
        held, error = _check(c.when, scope)
        caps.append(cap_checks.get(i, held, False, error))
    failed = tuple(c.index for c in caps if c.error is not None)
    if failed:
        return result(None, table_tier, checks, caps, "cap_failed", failed)
    tier = table_tier
    lowering = [c for c in caps if c.held and rank[c.tier] > rank[tier]]
    if lowering:
        cap = max(lowering, key=lambda c: (rank[c.tier], -c.index))
        tier = cap.tier
        caps = [cap_checks.get(c.index, c.held, c is cap, c.error) for c in caps]
    return result(tier, table_tier, checks, caps)
