"""Exposure ratios for groups and connected clients: plain functions over numbers.

Regulatory limits the ratios are compared with live in the shipped rules, not here:
group credit net of deductions <= 15% of net capital (CBRC 2003 No.5), connected
non-interbank clients <= 20% of tier-1 capital (CBIRC 2018 No.1).

Amounts in several currencies are converted into the reporting currency (CNY) before they are
added (`group_money`, rates from engine/fx.py as of a date); an amount without a rate leaves its
figure unknown (None) and says so, never summed in as if it were yuan.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from engine.fx import Rate, RateTable

from .guarantee import GuaranteeGraph


def _total(values: float | Iterable[float], what: str) -> float:
    if isinstance(values, (int, float)):      # a bool too: refused below in words, not by `list(True)`
        items = [values]
    else:
        items = list(values)
    total = 0.0
    for v in items:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise TypeError(f"{what} must be finite numbers, got {v!r}")
        if v < 0:
            raise ValueError(f"{what} must not be negative, got {v!r}")
        total += float(v)
    return total


def _positive(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or math.isinf(value):
        raise ValueError(f"{what} must be a positive number, got {value!r}")
    return float(value)


def group_credit_ratio(credit: float | Iterable[float], deductions: float | Iterable[float], net_capital: float) -> float:
    """(credit balances - margin deposits, pledged CDs, government bonds) / net capital; floor 0."""
    net = _total(credit, "credit balances") - _total(deductions, "deductions")
    return max(net, 0.0) / _positive(net_capital, "net capital")


def connected_exposure_ratio(exposures: float | Iterable[float], tier1_capital: float) -> float:
    """Exposure to a set of connected clients / tier-1 capital."""
    return _total(exposures, "exposures") / _positive(tier1_capital, "tier-1 capital")


def limit_usage(used: float | Iterable[float], unified_limit: float) -> float:
    """Used credit / the group's unified limit (above 1.0 means over the limit)."""
    return _total(used, "used amounts") / _positive(unified_limit, "unified limit")


def indirect_exposure(
    guarantees: GuaranteeGraph, direct: Mapping[str, float], cap_by_borrower: bool = True
) -> dict[str, float]:
    """Each firm's exposure including what it guarantees (one hop).

    ``direct`` is the bank's exposure per firm.  A guarantee given for a borrower
    adds the guaranteed amount, capped by the borrower's direct exposure when
    ``cap_by_borrower`` (the guarantor cannot owe more than the loan it backs).
    """
    out: dict[str, float] = {}
    firms = set(direct) | {f for f in guarantees.nodes}
    for f in firms:
        own = _total(direct.get(f, 0.0), "direct exposures")
        contingent = 0.0
        if f in guarantees:
            for borrower, amount in guarantees.guarantees_given(f).items():
                cap = direct.get(borrower, 0.0) if cap_by_borrower else amount
                contingent += min(amount, cap)
        if own or contingent:
            out[f] = own + contingent
    return out


def cluster_exposure(guarantees: GuaranteeGraph, direct: Mapping[str, float], firm: str) -> float:
    """The bank's direct exposure summed over ``firm``'s guarantee cluster (or the firm alone)."""
    members = guarantees.cluster_of(firm) if firm in guarantees else frozenset()
    return _total([direct.get(m, 0.0) for m in (members or {firm})], "direct exposures")


# -- across currencies --------------------------------------------------------------------------

@dataclass(frozen=True)
class Shortfall:
    """Amounts of `figure` in `currency` that have no rate on or before the as-of date."""

    figure: str          # group_credit | connected | limit | guaranteed_outside
    currency: str
    amount: Decimal      # in `currency`
    count: int           # how many firms' (or limits') amounts


@dataclass(frozen=True)
class GroupMoney:
    """A group's exposure amounts in the reporting currency, each None when part of it has no rate
    (`shortfalls` says which currency, how much, for which figure: never a partial sum)."""

    as_of: date
    reporting: str
    credit: float | None                 # members' loan balances
    connected: float | None              # loan balances of the members and the firms control links to them
    unified_limit: float | None          # the active group unified limits
    guaranteed_outside: float | None     # what members guarantee for outside borrowers, capped by their balance
    rates: Mapping[str, Rate] = field(default_factory=dict)       # every rate used, by currency
    shortfalls: tuple[Shortfall, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.shortfalls


def group_money(
    *, balances: Mapping[str, Mapping[str, Any]], members: Iterable[str], connected: Iterable[str],
    unified_limits: Iterable[tuple[Any, str]], guarantees: GuaranteeGraph, rates: RateTable, as_of: date,
) -> GroupMoney:
    """Convert and add up a group's exposure amounts as of `as_of`.

    ``balances`` holds each firm's loan balances per currency (in that currency); every amount is
    converted at the latest rate on or before ``as_of`` (engine/fx.py)."""
    used: dict[str, Rate] = {}
    shortfalls: list[Shortfall] = []

    def add(figure: str, items: list[tuple[Any, str]]) -> float | None:
        out = rates.total(items, as_of)
        used.update(out.rates)
        for currency, (amount, count) in out.missing.items():
            shortfalls.append(Shortfall(figure, currency, amount, count))
        return None if out.total is None else float(out.total)

    def firm_items(firms: Iterable[str]) -> list[tuple[Any, str]]:
        return [(v, c) for f in firms for c, v in balances.get(f, {}).items()]

    inside = sorted(set(members))
    credit = add("group_credit", firm_items(inside))
    conn = add("connected", firm_items(sorted(set(connected))))
    unified = add("limit", list(unified_limits))
    # the outside borrowers members guarantee: each one's balance in CNY, or a shortfall
    borrowers = sorted({b for m in inside if m in guarantees for b in guarantees.guarantees_given(m)} - set(inside))
    outside: dict[str, float] = {}
    missing_outside = False
    for b in borrowers:
        part = rates.total(firm_items([b]), as_of)
        used.update(part.rates)
        if part.total is None:
            missing_outside = True
            for currency, (amount, count) in part.missing.items():
                shortfalls.append(Shortfall("guaranteed_outside", currency, amount, count))
        elif part.total > 0:
            outside[b] = float(part.total)
    contingent: float | None = None
    if not missing_outside:
        contingent = 0.0
        for m in inside:
            if m not in guarantees:
                continue
            for b, given in guarantees.guarantees_given(m).items():
                if b in outside:
                    contingent += min(given, outside[b])
    return GroupMoney(as_of, rates.reporting, credit, conn, unified, contingent, dict(sorted(used.items())),
                      tuple(_merge(shortfalls)))


def _merge(shortfalls: list[Shortfall]) -> list[Shortfall]:
    merged: dict[tuple[str, str], Shortfall] = {}
    for s in shortfalls:
        key = (s.figure, s.currency)
        found = merged.get(key)
        merged[key] = s if found is None else Shortfall(s.figure, s.currency, found.amount + s.amount,
                                                        found.count + s.count)
    return list(merged.values())
