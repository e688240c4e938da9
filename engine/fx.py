"""Money in several currencies: a dated rate table and conversion into the reporting currency.

A rate says how many units of the reporting currency (CNY) one unit of a currency was worth on a
date. An amount is converted at the rate *of the relevant date*: the latest rate on or before the
as-of date. An amount whose currency has no such rate is never added in as if it were yuan: the
conversion raises `MissingRate` (one amount), or the total is `None` and names what is missing
(`RateTable.total`). The reporting currency needs no rate.

The expression language reaches it through `to_cny(amount, currency[, on_date])` (registered
below under the `banyan.functions` entry point); the rates come from the evaluation context key
`$fx` (a `RateTable`), which the runtime fills from the bank's `fx_rate` records.

    to_cny(amount, currency)            money    the amount in CNY at the latest rate on or before the
                                                 evaluation's date (`$now`, else the table's `as_of`)
    to_cny(amount, currency, on_date)   money    … on or before `on_date`
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dsl.errors import BanyanError
from dsl.expr import functions
from dsl.expr.functions import Signature
from dsl.expr.runtime import EvaluationError
from dsl.expr.types import DATE, MONEY, STRING
from dsl.source import Span

REPORTING = "CNY"
FX_KEY = "$fx"
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class Rate:
    currency: str
    on: date              # the date the rate is of
    value: Decimal        # units of the reporting currency per unit of `currency`


class MissingRate(EvaluationError):
    """An amount in `currency` needs a rate on or before `as_of`, and the table has none.

    An `EvaluationError`, so an expression that meets it (`to_cny` inside a computed field) reports
    these words on the field rather than a generic "a function failed"."""

    code, status, namespace = "missing_rate", 422, "fx"

    def __init__(self, currency: str, as_of: date | None, reporting: str = REPORTING) -> None:
        day = as_of.isoformat() if as_of is not None else "—"
        message = (f"No {currency}→{reporting} exchange rate on or before {day}: "
                   f"enter the {currency} rate in Exchange rates (汇率) first")
        BanyanError.__init__(self, message, params={"currency": currency, "date": day, "reporting": reporting})
        self.text, self.span, self.reason = "to_cny", Span("<to_cny>", 1, 1), None
        self.args = (message,)
        self.currency, self.as_of = currency, as_of


@dataclass(frozen=True)
class Converted:
    """A total in the reporting currency. `total` is None when any part had no rate; `missing`
    then holds, per currency, the unconverted amount and how many amounts it is."""

    total: Decimal | None
    as_of: date
    rates: Mapping[str, Rate] = field(default_factory=dict)            # the rates used, by currency
    missing: Mapping[str, tuple[Decimal, int]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.missing


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        raise ValueError(f"{what} must be a number, got {value!r}")
    out = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if not out.is_finite():
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return out


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


class RateTable:
    """Dated rates per currency: `rates` are `(currency, date, rate)` rows in any order. Two rows
    for one currency and date are refused (which would count is not knowable)."""

    def __init__(self, rates: Iterable[tuple[str, date, Any]] = (), reporting: str = REPORTING,
                 as_of: date | None = None) -> None:
        self.reporting = reporting
        self.as_of = as_of          # the date an expression converts at when it names none (the runtime's today)
        by_currency: dict[str, dict[date, Decimal]] = {}
        for currency, on, value in rates:
            if not isinstance(currency, str) or not currency:
                raise ValueError(f"a rate needs a currency code, got {currency!r}")
            if not isinstance(on, date):
                raise ValueError(f"the {currency} rate needs a date, got {on!r}")
            rate = _decimal(value, f"the {currency} rate of {on}")
            if not rate > 0:
                raise ValueError(f"the {currency} rate of {on} must be positive, got {value!r}")
            day = _day(on)
            seen = by_currency.setdefault(currency, {})
            if day in seen and seen[day] != rate:
                raise ValueError(f"two different {currency} rates for {day.isoformat()}: {seen[day]} and {rate}")
            seen[day] = rate
        self._dates = {c: sorted(d) for c, d in by_currency.items()}
        self._values = {c: [d[x] for x in self._dates[c]] for c, d in by_currency.items()}

    @property
    def currencies(self) -> list[str]:
        return sorted(self._dates)

    def rate_on(self, currency: str, as_of: date | datetime) -> Rate | None:
        """The latest rate of `currency` on or before `as_of` (1 for the reporting currency)."""
        day = _day(as_of)
        if currency == self.reporting:
            return Rate(currency, day, Decimal(1))
        dates = self._dates.get(currency)
        if not dates:
            return None
        i = bisect.bisect_right(dates, day)
        return None if i == 0 else Rate(currency, dates[i - 1], self._values[currency][i - 1])

    def convert(self, amount: Any, currency: str, as_of: date | datetime) -> Decimal:
        """`amount` of `currency` in the reporting currency, to the cent; MissingRate without a rate."""
        rate = self.rate_on(currency, as_of)
        if rate is None:
            raise MissingRate(currency, _day(as_of), self.reporting)
        value = _decimal(amount, "an amount")
        return value if currency == self.reporting else (value * rate.value).quantize(_CENT)

    def total(self, amounts: Iterable[tuple[Any, str]], as_of: date | datetime) -> Converted:
        """The sum of `(amount, currency)` pairs in the reporting currency (None amounts skipped).
        Each currency is summed first and converted once, so the total does not depend on order."""
        day = _day(as_of)
        by_currency: dict[str, tuple[Decimal, int]] = {}
        for amount, currency in amounts:
            if amount is None:
                continue
            s, n = by_currency.get(currency, (Decimal(0), 0))
            by_currency[currency] = (s + _decimal(amount, "an amount"), n + 1)
        used: dict[str, Rate] = {}
        missing: dict[str, tuple[Decimal, int]] = {}
        total = Decimal(0)
        for currency in sorted(by_currency):
            s, n = by_currency[currency]
            rate = self.rate_on(currency, day)
            if rate is None:
                missing[currency] = (s, n)
                continue
            if currency != self.reporting:
                used[currency] = rate
                s = (s * rate.value).quantize(_CENT)
            total += s
        return Converted(None if missing else total, day, used, missing)


# -- the expression language's view ------------------------------------------------------------

def to_cny(ctx: Mapping[str, Any], amount: Decimal, currency: str, on_date: date | None = None) -> Decimal:
    if currency == REPORTING:
        return amount
    table = ctx.get(FX_KEY)
    day: date | None = on_date
    if day is None:
        now = ctx.get("$now")
        day = _day(now) if isinstance(now, date) else (table.as_of if isinstance(table, RateTable) else None)
    if not isinstance(table, RateTable) or day is None:
        raise MissingRate(currency, day)
    return table.convert(amount, currency, day)


def register(registry: functions.Registry | None = None) -> None:
    reg = registry or functions.REGISTRY
    if reg.get("to_cny") is None:
        reg.register("to_cny", Signature((MONEY, STRING, DATE), MONEY, optional=1), to_cny,
                     uses_context=True,
                     doc="the amount in CNY at the latest exchange rate (fx_rate) on or before the date "
                         "(default the evaluation's today); no rate is an error, never a silent sum (折人民币)")


register()
