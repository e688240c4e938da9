"""Concentration before approval: what an application would do to the bank's credit to a group, to
its largest single borrower and to its connected clients, against the bank's capital of the date.

The limits are the bank's rules (the YAML writes `> 15%`); this module gives the ratios:

* group credit      = the members' loan balances + the amount applied for, ÷ net capital
                      (资本净额; CBRC 2003 No.5: ≤ 15%);
* single borrower   = the largest one member's balances + its sub-limits in this application,
                      ÷ net capital (CBIRC 2018 No.1: single borrower loans ≤ 10%);
* connected clients = the balances of the members and of the firms control links to them + the
                      amount, ÷ tier-1 capital (一级资本净额; CBIRC 2018 No.1: ≤ 20%).

The application is counted as if fully drawn (the prudent reading of "after this amount"); no
deductions (margin deposits, pledged CDs, government bonds) are recorded, so none are made.

The capital figures are data with an effective date (the `bank_capital` records the bank enters
each quarter): the figure counting on a day is the latest one effective on or before it. No figure
on or before the day is `NoCapitalFigure`, never a default; an amount in a currency without a rate
is `engine.fx.MissingRate`, never summed in as yuan. Pure: every figure comes in as an argument.
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dsl.errors import BanyanError
from dsl.expr.runtime import EvaluationError
from dsl.source import Span
from engine.fx import REPORTING, MissingRate, RateTable


@dataclass(frozen=True)
class Capital:
    """The bank's capital from `effective_on` (until a later figure), in the reporting currency."""

    effective_on: date
    net_capital: Decimal          # 资本净额
    tier1_capital: Decimal        # 一级资本净额
    key: str | None = None        # the record it came from (e.g. 2026Q2)
    currency: str = REPORTING


class NoCapitalFigure(EvaluationError):
    """No capital figure is effective on or before the date a concentration is asked for."""

    code, status, namespace = "no_capital", 422, "graph"

    def __init__(self, as_of: date | None) -> None:
        day = as_of.isoformat() if as_of is not None else "—"
        message = (f"No bank capital figure (net capital, tier-1 capital) is effective on or before {day}: "
                   f"enter the quarter's figures in Bank capital (本行资本) first")
        BanyanError.__init__(self, message, params={"date": day})
        self.text, self.span, self.reason = "concentration", Span("<concentration>", 1, 1), None
        self.args = (message,)
        self.as_of = as_of


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    out = value if isinstance(value, Decimal) else Decimal(str(value))
    if not out.is_finite():
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return out


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


class CapitalTable:
    """Capital figures by effective date. Two different figures for one date are refused (which
    one counts would not be knowable); a figure must be positive, tier-1 no more than net capital."""

    def __init__(self, figures: Iterable[Capital] = ()) -> None:
        by_day: dict[date, Capital] = {}
        for c in figures:
            if not isinstance(c.effective_on, date):
                raise ValueError(f"a capital figure needs an effective date, got {c.effective_on!r}")
            day = _day(c.effective_on)
            net = _decimal(c.net_capital, f"the net capital of {day}")
            tier1 = _decimal(c.tier1_capital, f"the tier-1 capital of {day}")
            if not net > 0 or not tier1 > 0:
                raise ValueError(f"the capital of {day.isoformat()} must be positive, got {net} and {tier1}")
            if c.currency != REPORTING:
                raise ValueError(f"the capital of {day.isoformat()} must be in {REPORTING}, got {c.currency}")
            figure = Capital(day, net, tier1, c.key, c.currency)
            seen = by_day.get(day)
            if seen is not None and (seen.net_capital, seen.tier1_capital) != (net, tier1):
                raise ValueError(f"two different capital figures are effective on {day.isoformat()}: "
                                 f"{seen.key or '?'} and {c.key or '?'}")
            by_day[day] = figure
        self._days = sorted(by_day)
        self._figures = [by_day[d] for d in self._days]

    def __len__(self) -> int:
        return len(self._figures)

    def on(self, as_of: date | datetime) -> Capital | None:
        """The latest figure effective on or before `as_of`."""
        i = bisect.bisect_right(self._days, _day(as_of))
        return None if i == 0 else self._figures[i - 1]

    def require(self, as_of: date | datetime) -> Capital:
        found = self.on(as_of)
        if found is None:
            raise NoCapitalFigure(_day(as_of))
        return found


@dataclass(frozen=True)
class Concentration:
    """A group's concentration after an application, as of a date, with the capital it used."""

    group: str
    as_of: date
    capital: Capital
    amount: Decimal                  # the amount applied for (CNY)
    group_credit: Decimal            # members' balances + amount
    group_ratio: Decimal             # ÷ net capital
    single_borrower: str | None      # the member with the largest credit after the application
    single_credit: Decimal           # its balances + its sub-limits here
    single_ratio: Decimal            # ÷ net capital
    connected_credit: Decimal        # connected firms' balances + amount
    connected_ratio: Decimal         # ÷ tier-1 capital

    def as_record(self) -> dict[str, Any]:
        """What `concentration(…)` gives an expression (and a page): ratios as fractions."""
        return {"group_ratio": self.group_ratio, "single_ratio": self.single_ratio,
                "connected_ratio": self.connected_ratio, "group_credit": self.group_credit,
                "single_credit": self.single_credit, "single_borrower": self.single_borrower,
                "connected_credit": self.connected_credit, "net_capital": self.capital.net_capital,
                "tier1_capital": self.capital.tier1_capital, "capital_effective_on": self.capital.effective_on,
                "capital_key": self.capital.key, "as_of": self.as_of}


class ExposureBook:
    """What the concentration functions read: loan balances per firm and currency (in that currency),
    each group's members and connected firms (by group key), the rates and the capital figures.

    `members` and `connected` are looked up by `[group]` (a dict, or a mapping that computes a
    group's set when first asked); an unknown group has none. A group given as a record is known by
    its `group_key` field. `as_of` is the day asked about when the caller names none (the runtime's
    today). Converted totals are cached per (firms, date), so a flow evaluating three ratios reads
    each sum once."""

    def __init__(self, *, balances: Mapping[str, Mapping[str, Any]], members: Mapping[str, Iterable[str]],
                 connected: Mapping[str, Iterable[str]], rates: RateTable, capital: CapitalTable,
                 as_of: date | None = None, group_key: str = "code") -> None:
        self.balances, self.members_of, self.connected_of = balances, members, connected
        self.rates, self.capital, self.as_of, self.group_key = rates, capital, as_of, group_key
        self._sums: dict[tuple[frozenset[str], date], Decimal] = {}

    def key_of(self, group: Any) -> str:
        """A group's key: itself when text, else a group record's `group_key` field."""
        key = group if isinstance(group, str) else (group.get(self.group_key) if isinstance(group, Mapping) else None)
        if not isinstance(key, str) or not key:
            raise ValueError(f"a group must be a group record or its key, got {group!r}")
        return key

    def _set(self, table: Mapping[str, Iterable[str]], group: str) -> frozenset[str]:
        try:
            return frozenset(table[group])
        except KeyError:
            return frozenset()

    def credit(self, firms: Iterable[str], as_of: date) -> Decimal:
        """The firms' loan balances in CNY at the latest rates on or before `as_of` (MissingRate
        when a currency has none)."""
        key = (frozenset(firms), as_of)
        found = self._sums.get(key)
        if found is None:
            items = [(v, c) for f in sorted(key[0]) for c, v in self.balances.get(f, {}).items()]
            out = self.rates.total(items, as_of)
            if out.total is None:
                raise MissingRate(sorted(out.missing)[0], as_of, self.rates.reporting)
            found = self._sums[key] = out.total
        return found

    def concentration(self, group: str, amount: Any, as_of: date | datetime | None = None,
                      sub_limits: Iterable[tuple[str, Any]] = ()) -> Concentration:
        """`group`'s concentration if `amount` (CNY) were granted, as of `as_of` (default the
        book's), `sub_limits` being the (borrower key, amount) rows of the application (a borrower
        may appear more than once)."""
        when = as_of if as_of is not None else self.as_of
        if when is None:
            raise ValueError("a concentration needs the date it is of")
        day = _day(when)
        capital = self.capital.require(day)     # first: no capital on record says so before anything else
        applied = _decimal(amount, "the amount applied for")
        if applied < 0:
            raise ValueError(f"the amount applied for must not be negative, got {amount!r}")
        members = self._set(self.members_of, group)
        extra: dict[str, Decimal] = {}
        for borrower, value in sub_limits:
            if not isinstance(borrower, str) or not borrower:
                raise ValueError(f"a sub-limit's borrower must be a company key, got {borrower!r}")
            if value is None:
                continue
            extra[borrower] = extra.get(borrower, Decimal(0)) + _decimal(value, "a sub-limit")
        group_credit = self.credit(members, day) + applied
        single, single_credit = None, Decimal(0)
        for firm in sorted(members | set(extra)):
            credit = self.credit((firm,), day) + extra.get(firm, Decimal(0))
            if single is None or credit > single_credit:
                single, single_credit = firm, credit
        connected = self._set(self.connected_of, group) | members
        connected_credit = self.credit(connected, day) + applied
        return Concentration(group, day, capital, applied, group_credit, group_credit / capital.net_capital,
                             single, single_credit, single_credit / capital.net_capital,
                             connected_credit, connected_credit / capital.tier1_capital)
