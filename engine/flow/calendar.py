"""Deadlines on a business-day calendar. The runtime builds the bank's calendar (public
holidays and the make-up working days of 调休) and passes it in; nothing here reads a clock."""
from __future__ import annotations

import calendar as _cal
from datetime import date, datetime, timedelta
from typing import Iterable, Protocol

_FIXED = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1),
          "weeks": timedelta(weeks=1)}


class Calendar(Protocol):
    def add(self, start: datetime, amount: float, unit: str) -> datetime:
        """`start` moved by `amount` (may be negative) of `unit`: minutes, hours, days, weeks,
        months or business_days."""


class BusinessCalendar:
    """Monday–Friday, minus `holidays`, plus `workdays` (weekend days that are worked)."""

    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = (),
                 weekend: Iterable[int] = (5, 6)):
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.weekend = frozenset(weekend)

    def is_business_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() not in self.weekend and day not in self.holidays

    def add(self, start: datetime, amount: float, unit: str) -> datetime:
        if unit in _FIXED:
            return start + _FIXED[unit] * amount
        if unit == "months":
            return add_months(start, int(amount))
        if unit == "business_days":
            return self._business(start, amount)
        raise ValueError(f"unknown duration unit {unit!r}")

    def _business(self, start: datetime, amount: float) -> datetime:
        """Count whole business days from start's day, keeping the time of day; a fraction of a
        business day is that share of 24 hours. Starting on a day off counts from the next
        business day's same time."""
        whole = int(amount)
        rest = amount - whole
        step = 1 if amount >= 0 else -1
        day = start.date()
        while not self.is_business_day(day):
            day += timedelta(days=step)
        moved = 0
        while moved < abs(whole):
            day += timedelta(days=step)
            if self.is_business_day(day):
                moved += 1
        return datetime.combine(day, start.timetz()) + timedelta(hours=24 * rest)


def add_months(start: datetime, months: int) -> datetime:
    """Calendar months; a day past the new month's end becomes that month's last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, _cal.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


WEEKDAYS = BusinessCalendar()
