"""The bank's business calendar, as flows count deadlines, reminders and escalations with it.

China's public holidays and make-up working days (调休) come from `chinese-calendar`, a maintained
package that follows the State Council's yearly notice (pinned in pyproject.toml; a new year comes
with a new version of it). The bank's own days come from the deployed `Calendar` documents
(configs/calendar/) and win over the package. The calendar knows every day up to the end of the
last year the package has data for, or a later year the bank's files list in full
(`covers_years`). Past that, `beyond_known_years` decides: `weekdays` (default) counts
Monday–Friday plus the bank's listed days and logs a warning for each deadline so counted;
`refuse` refuses the command. `banyan status` warns 60 days before the known days run out.

Days are counted on the bank's wall clock (dsl/bank_time.py)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

import chinese_calendar
from chinese_calendar import constants as _public

from dsl.bank_time import bank_timezone
from dsl.kinds.calendar import merged
from engine.flow import BusinessCalendar

log = logging.getLogger("banyan.calendar")
WARN_DAYS = 60        # `banyan status` warns this many days before the known days end

PACKAGE_VERSION = getattr(chinese_calendar, "__version__", "?")
PUBLIC_HOLIDAYS: frozenset[date] = frozenset(_public.holidays)
PUBLIC_WORKDAYS: frozenset[date] = frozenset(_public.workdays)
PUBLIC_YEARS: tuple[int, int] = (min(PUBLIC_HOLIDAYS).year, max(PUBLIC_HOLIDAYS).year)


def known_until(covers_years: tuple[int, ...] = (), public_last_year: int = PUBLIC_YEARS[1]) -> date:
    """The last day whose business days are known: the end of the package's last year, carried on
    through the years the bank's files list in full, as long as they follow on without a gap."""
    last = public_last_year
    for year in sorted(set(covers_years)):
        if year == last + 1:
            last = year
    return date(last, 12, 31)


def bank_calendar(bundle: Any = None, *, tz: Any = None) -> BusinessCalendar:
    """The business calendar of a bundle: public holidays and 调休 from the package, the bank's
    Calendar documents over them (the bank's day wins)."""
    bank = merged(bundle.of_kind("Calendar").values() if bundle is not None else ())
    holidays = set(PUBLIC_HOLIDAYS) - set(bank["workdays"]) | set(bank["holidays"])
    workdays = set(PUBLIC_WORKDAYS) - set(bank["holidays"]) | set(bank["workdays"])
    return BusinessCalendar(holidays, workdays, known_until=known_until(bank["covers_years"]),
                            beyond=bank["beyond"], tz=tz if tz is not None else bank_timezone())


class LiveCalendar:
    """The calendar of the live bundle, rebuilt when a deploy changes it: what FlowService counts
    with unless a test hands it another. Logs each deadline counted past the known days."""

    def __init__(self, live: Callable[[], Any]):
        self.live = live

    def current(self) -> BusinessCalendar:
        model = self.live()
        return model.cache("business_calendar", bank_calendar, model.bundle)

    def add(self, start: datetime, amount: float, unit: str) -> datetime:
        cal = self.current()
        end = cal.add(start, amount, unit)
        if unit == "business_days" and cal.beyond_horizon(start, end):
            log.warning("a deadline of %s business day(s) from %s counts past %s, the last day the bank's calendar "
                        "knows; Monday–Friday was assumed — add the year to configs/calendar/ and deploy",
                        amount, cal.local(start).date(), cal.known_until)
        return end


@dataclass(frozen=True)
class Horizon:
    known_until: date
    days_left: int
    level: str          # "ok", "warning" (within WARN_DAYS), "error" (past it)
    message: str


def horizon(calendar: BusinessCalendar, today: date, warn_days: int = WARN_DAYS) -> Horizon | None:
    """How far the calendar's known days reach from `today`; None for a calendar known for ever."""
    end = calendar.known_until
    if end is None:
        return None
    left = (end - today).days
    weekdays = calendar.beyond == "weekdays"
    todo = (f"add {end.year + 1}'s holidays and make-up working days to configs/calendar/ (covers_years: "
            f"[{end.year + 1}]) or upgrade chinese-calendar, then deploy")
    if left < 0:
        now = "deadlines past it count Monday–Friday only" if weekdays else "commands whose deadlines reach past it are refused"
        return Horizon(end, left, "error", f"the business calendar knows holidays only up to {end}; {now} — {todo}")
    if left <= warn_days:
        soon = ("deadlines past it will count Monday–Friday only" if weekdays
                else "commands whose deadlines reach past it will be refused")
        return Horizon(end, left, "warning", f"the business calendar knows holidays only up to {end} "
                                             f"({left} day(s) left); {soon} — {todo}")
    return Horizon(end, left, "ok", f"the business calendar knows holidays up to {end}")

