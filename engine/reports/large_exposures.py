"""The large-exposure report (大额风险暴露, CBIRC 2018 No.1) in the regulator's layout, as rows.

A large exposure is one of at least 10% of tier-1 capital (一级资本净额); the limits are 15% for a
single non-interbank client and 20% for a group of connected non-interbank clients (关联客户).

One truth: every figure here is the one the concentration functions of the alert rules and the
credit route compute (`connected_credit_ratio`, engine/functions.py), read from the same
`ExposureBook` (engine/graph/concentration.py):

* a client's exposure is `book.credit((client,), day)` — its loan balances in CNY at the latest
  rates on or before the day;
* a group's connected exposure is `book.concentration(group, 0, day).connected_credit` — the
  balances of its members and of the firms control links to them — exactly what
  `connected_credit_ratio(group, 0)` divides by tier-1 capital;
* tier-1 capital is the `bank_capital` figure effective on or before the day (none: the book's
  `NoCapitalFigure`, never a default).

So the exposure total is the general exposure (一般风险暴露: loans). Unused committed limits
(潜在风险暴露) are shown beside it when the caller passes them, for reference, and are *not* in
the total or the ratio: the concentration functions do not count them, and a report that did
would disagree with the alerts on the same client. Counting them is a change to `ExposureBook`,
so that every door moves together.

Pure: the book, the parties and the unused limits come in as arguments.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from engine.graph.concentration import Capital, ExposureBook

LARGE_EXPOSURE = Decimal("0.10")      # of tier-1 capital: a large exposure from here on
SINGLE_LIMIT = Decimal("0.15")        # a single non-interbank client
CONNECTED_LIMIT = Decimal("0.20")     # a group of connected non-interbank clients


@dataclass(frozen=True)
class Party:
    """A client (key: its 统一社会信用代码) or a group (key: its code), with its name."""

    key: str
    name: str


@dataclass(frozen=True)
class SummaryRow:
    """Part I: one category of large exposures — how many, their total, its share of tier-1."""

    category: str                     # single | connected
    count: int
    total: Decimal
    ratio: Decimal


@dataclass(frozen=True)
class ClientRow:
    """Part II: a non-interbank single client at or above 10% of tier-1 capital."""

    rank: int
    key: str
    name: str
    total: Decimal                    # 风险暴露总和 (= general: what the functions count)
    general: Decimal                  # 一般风险暴露: loan balances
    potential: Decimal | None         # 潜在风险暴露 for reference: unused committed limits (not in total)
    ratio: Decimal                    # total / tier-1 capital
    limit: Decimal
    over_limit: bool


@dataclass(frozen=True)
class GroupRow:
    """Part III: a group of connected non-interbank clients at or above 10% of tier-1 capital."""

    rank: int
    key: str
    name: str
    members: int                      # the firms counted: declared members and the firms control links to them
    total: Decimal
    ratio: Decimal
    limit: Decimal
    over_limit: bool


@dataclass(frozen=True)
class LargeExposures:
    as_of: date
    capital: Capital
    summary: tuple[SummaryRow, ...]
    clients: tuple[ClientRow, ...]
    groups: tuple[GroupRow, ...]


def connected_set(book: ExposureBook, group: str) -> frozenset[str]:
    """The firms a group's connected exposure counts: its members and its connected firms."""
    def of(table: Mapping[str, Iterable[str]]) -> frozenset[str]:
        try:
            return frozenset(table[group])
        except KeyError:
            return frozenset()
    return of(book.members_of) | of(book.connected_of)


def _order(rows: list[Any]) -> list[Any]:
    return sorted(rows, key=lambda r: (-r[2], r[0]))


def large_exposures(book: ExposureBook, *, clients: Iterable[Party], groups: Iterable[Party],
                    as_of: date) -> LargeExposures:
    """The report as of `as_of` over `clients` and `groups` (the reader's scope): the clients and
    groups whose exposure is at least 10% of tier-1 capital, largest first (ties by key).
    Potential exposure is left unknown (None); `with_potential` adds it."""
    capital = book.capital.require(as_of)          # no capital figure: said before anything else
    tier1 = capital.tier1_capital
    threshold = tier1 * LARGE_EXPOSURE
    found: list[tuple[str, str, Decimal]] = []
    for p in clients:
        if p.key not in book.balances:
            continue
        credit = book.credit((p.key,), as_of)
        if credit >= threshold:
            found.append((p.key, p.name, credit))
    client_rows = [ClientRow(rank, key, name, total, total, None, total / tier1, SINGLE_LIMIT,
                             total > tier1 * SINGLE_LIMIT)
                   for rank, (key, name, total) in enumerate(_order(found), 1)]
    seen: list[tuple[str, str, Decimal]] = []
    sizes: dict[str, int] = {}
    for p in groups:
        firms = connected_set(book, p.key)
        if not firms:
            continue
        total = book.concentration(p.key, 0, as_of).connected_credit
        if total >= threshold:
            seen.append((p.key, p.name, total))
            sizes[p.key] = len(firms)
    group_rows = [GroupRow(rank, key, name, sizes[key], total, total / tier1, CONNECTED_LIMIT,
                           total > tier1 * CONNECTED_LIMIT)
                  for rank, (key, name, total) in enumerate(_order(seen), 1)]

    def summary(category: str, rows: list[Any]) -> SummaryRow:
        total = sum((r.total for r in rows), Decimal(0))
        return SummaryRow(category, len(rows), total, total / tier1)
    return LargeExposures(as_of, capital, (summary("single", client_rows), summary("connected", group_rows)),
                          tuple(client_rows), tuple(group_rows))


def with_potential(report: LargeExposures, book: ExposureBook,
                   unused: Mapping[str, Iterable[tuple[Any, str]]]) -> LargeExposures:
    """`report` with each listed client's potential exposure (潜在风险暴露): its unused committed
    limits, (amount, currency) pairs in `unused`, converted at the book's rates as of the report's
    day — for reference beside the total, never added to it (see the module's words). A client
    with a limit in a currency without a rate gets None (unknown), never a partial sum."""
    rows = tuple(replace(r, potential=book.rates.total(list(unused.get(r.key, ())), report.as_of).total)
                 for r in report.clients)
    return replace(report, clients=rows)
