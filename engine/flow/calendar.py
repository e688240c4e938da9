"""Deadlines on a business-day calendar. The runtime builds the bank's calendar (public
holidays and the make-up working days of 调休, up to the last day it knows) and passes it in;
nothing here reads a clock.

Units (dsl/kinds/parts.py reads them): minutes, hours, days and weeks are calendar time — `1d` is
24 hours whatever the day, weekends and holidays included; months are calendar months;
business_days count the bank's working days only (`1 business day`, `1 工作日`).

Business days are counted on the bank's wall clock (`tz`): a moment is first put in the bank's
time zone, so 2026-09-30 20:00 UTC is 2026-10-01 04:00 in Beijing, a holiday.

Beyond `known_until` (the last day whose holidays are known) the calendar can only guess.
`beyond="weekdays"` (the default) counts Monday–Friday plus the days the bank listed, and says so
through `beyond_horizon()`; `beyond="refuse"` refuses the deadline (`CalendarNotCovered`)."""
from __future__ import annotations

import calendar as _cal
from datetime import date, datetime, timedelta, tzinfo
from typing import Iterable, Literal, Protocol

from .errors import CommandRejected

_FIXED = {"minutes": timedelta(minutes=1), "hours": timedelta(hours=1), "days": timedelta(days=1),
          "weeks": timedelta(weeks=1)}

Beyond = Literal["weekdays", "refuse"]


class Calendar(Protocol):
    def add(self, start: datetime, amount: float, unit: str) -> datetime:
        """`start` moved by `amount` (may be negative) of `unit`: minutes, hours, days, weeks,
        months or business_days."""


class CalendarNotCovered(CommandRejected):
    """A business-day deadline reaches a day past what the bank's calendar knows, and the bank
    chose to refuse rather than guess (`beyond_known_years: refuse`)."""

    def __init__(self, day: date, known_until: date):
        super().__init__("calendar_not_covered",
                         f"the deadline reaches {day.isoformat()}, but the bank's calendar knows holidays only up to "
                         f"{known_until.isoformat()}; add {day.year}'s holidays and make-up working days to the "
                         "bank's Calendar (configs/calendar/) and deploy it")
        self.day, self.known_until = day, known_until


class BusinessCalendar:
    """Monday–Friday, minus `holidays`, plus `workdays` (weekend days that are worked), known up
    to `known_until` (None: known for ever), counted on the wall clock of `tz` (None: as given)."""

    def __init__(self, holidays: Iterable[date] = (), workdays: Iterable[date] = (),
                 weekend: Iterable[int] = (5, 6), *, known_until: date | None = None,
                 beyond: Beyond = "weekdays", tz: tzinfo | None = None):
        if beyond not in ("weekdays", "refuse"):
            raise ValueError(f"beyond must be 'weekdays' or 'refuse', not {beyond!r}")
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.weekend = frozenset(weekend)
        self.known_until = known_until
        self.beyond = beyond
        self.tz = tz

    def covers(self, day: date) -> bool:
        """Whether the calendar knows `day`'s holidays (not a guess)."""
        return self.known_until is None or day <= self.known_until

    def is_business_day(self, day: date) -> bool:
        if self.beyond == "refuse" and self.known_until is not None and day > self.known_until:
            raise CalendarNotCovered(day, self.known_until)
        if day in self.workdays:
            return True
        return day.weekday() not in self.weekend and day not in self.holidays

    def local(self, moment: datetime) -> datetime:
        """`moment` on the bank's wall clock (a naive moment is taken as already there)."""
        return moment.astimezone(self.tz) if self.tz is not None and moment.tzinfo is not None else moment

    def beyond_horizon(self, start: datetime, end: datetime) -> bool:
        """Whether counting from `start` to `end` went past the known days (so Monday–Friday was
        assumed for some of them)."""
        last = max(self.local(start).date(), self.local(end).date())
        return not self.covers(last)

    def add(self, start: datetime, amount: float, unit: str) -> datetime:
        if unit in _FIXED:
            return start + _FIXED[unit] * amount
        if unit == "months":
            return add_months(start, int(amount))
        if unit == "business_days":
            return self._business(self.local(start), amount)
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
"""Monday–Friday with no holidays: for tests and for a bank that has no calendar deployed."""
