"""Runtime values the expression language adds to the type contract in types.py, and the
calendar arithmetic behind them."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar span in whole months: `3 months` is Period(3), `2 quarters` Period(6),
    `1 year` Period(12). Unlike a duration its length in days depends on where it starts."""

    months: int

    def __str__(self) -> str:
        return f"{self.months} months"


def add_months(when: date, months: int) -> date:
    """`when` moved by whole months, with the end-of-month rule of finance: a month's last day
    maps to the target month's last day (2026-09-30 minus 6 months is 2026-03-31), other days
    are clamped (2026-08-30 minus 6 months is 2026-02-28). Works for dates and datetimes."""
    index = when.year * 12 + (when.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    month_end = when.day == calendar.monthrange(when.year, when.month)[1]
    day = last if month_end else min(when.day, last)
    return when.replace(year=year, month=month, day=day)


def as_datetime(value: date) -> datetime:
    """A datetime for comparisons: a date stands for its midnight."""
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day)


def shift(when: date, span, sign: int = 1):
    """`when` plus (sign=1) or minus (sign=-1) a timedelta or a Period."""
    if isinstance(span, Period):
        return add_months(when, sign * span.months)
    return when + span if sign > 0 else when - span
