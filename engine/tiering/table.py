"""The DMN hit policies of a tier decision table, over which rules held (pure).

`apply_policy(policy, aggregate, hits, rank)` takes the rules that held, in table order, and
gives the tier with the rules that decided it, or a TableProblem when the policy refuses the
hits: `unique` with two rules holding, `any` with two rules disagreeing, or no rule at all.
Tiers are ranked best first (rank 0), so `priority` takes the lowest rank and `collect` with
`min` the highest (the worst tier that holds), `max` the lowest."""
from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

from dsl.errors import BanyanError


class Hit(NamedTuple):
    place: int                 # the rule's place in the table, from 0
    tier: str


class TableProblem(BanyanError):
    """The table gives no tier for this subject: `code` (no_rule, not_unique, disagree) and the
    rules concerned (their places from 0); its words are the catalogue's `tiering.problem.<code>`."""
    namespace, code = "tiering", "problem.no_rule"

    def __init__(self, code: str, rules: tuple[int, ...] = ()):
        super().__init__(code=code, key=f"tiering.problem.{code}",
                         params={"rules": ", ".join(str(i + 1) for i in rules), "dimensions": ""})
        self.rules = rules


def apply_policy(policy: str, aggregate: str | None, hits: Sequence[Hit],
                 rank: Callable[[str], int]) -> tuple[str, tuple[int, ...]]:
    """(the tier, the places of the rules that decided it)."""
    if not hits:
        raise TableProblem("no_rule")
    if policy in ("first", "rule_order"):
        return hits[0].tier, (hits[0].place,)
    if policy == "unique":
        if len(hits) > 1:
            raise TableProblem("not_unique", tuple(h.place for h in hits))
        return hits[0].tier, (hits[0].place,)
    if policy == "any":
        tiers = {h.tier for h in hits}
        if len(tiers) > 1:
            raise TableProblem("disagree", tuple(h.place for h in hits))
        return hits[0].tier, tuple(h.place for h in hits)
    if policy == "priority" or (policy == "collect" and aggregate == "max"):
        best = min(hits, key=lambda h: (rank(h.tier), h.place))
        return best.tier, (best.place,)
    if policy == "collect":
        worst = max(hits, key=lambda h: (rank(h.tier), -h.place))
        return worst.tier, (worst.place,)
    raise ValueError(f"hit policy {policy!r} is not one the schema allows")   # the schema refuses it first
