"""Exposure ratios for groups and connected clients: plain functions over numbers.

Regulatory limits the ratios are compared with live in the shipped rules, not here:
group credit net of deductions <= 15% of net capital (CBRC 2003 No.5), connected
non-interbank clients <= 20% of tier-1 capital (CBIRC 2018 No.1).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

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
