"""When a schedule written in a document (dsl/kinds/schedule.py: `daily 06:00`, `weekdays 08:30`,
`business days 08:30`, `weekly mon 06:00`, `monthly last 18:00`, `quarterly 06:00`, `every 15m`,
a cron line) next comes, on the bank's clock. For the periodic work of alert rules (and tiering).

The calendar forms are APScheduler's CronTrigger (the package the scheduler runs on); a cron
line's day-of-week numbers are read as cron means them (0 and 7 are Sunday), not as APScheduler
3 reads them (0 is Monday). `business days` are the weekdays the bank's calendar counts as
working days (its holidays skipped, its make-up Saturdays of 调休 included)."""
from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from dsl.bank_time import bank_timezone

_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_weekdays(field: str) -> str:
    """A cron day-of-week field (0/7 Sunday, ranges, lists, steps) as APScheduler's day names."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            lo, hi = 0, 6
        elif "-" in base:
            a, b = base.split("-")
            lo, hi = int(a), int(b)
        else:
            lo = hi = int(base)
        days.update(d % 7 for d in range(lo, hi + 1, int(step) if step else 1))
    order = [1, 2, 3, 4, 5, 6, 0]                  # APScheduler lists Monday first
    return ",".join(_NAMES[d] for d in order if d in days)


def trigger(schedule: Any, tz: tzinfo) -> CronTrigger:
    kind, h, m = schedule.kind, schedule.hour, schedule.minute
    if kind == "daily":
        return CronTrigger(hour=h, minute=m, timezone=tz)
    if kind in ("weekdays", "business_days"):
        return CronTrigger(day_of_week="*" if kind == "business_days" else "mon-fri", hour=h, minute=m, timezone=tz)
    if kind == "weekly":
        return CronTrigger(day_of_week=schedule.day, hour=h, minute=m, timezone=tz)
    if kind == "monthly":
        return CronTrigger(day=schedule.day, hour=h, minute=m, timezone=tz)
    if kind == "quarterly":
        return CronTrigger(month="1,4,7,10", day=1, hour=h, minute=m, timezone=tz)
    if kind == "cron":
        f = (schedule.cron or schedule.text).split()
        return CronTrigger(minute=f[0], hour=f[1], day=f[2], month=f[3], day_of_week=cron_weekdays(f[4]), timezone=tz)
    raise ValueError(f"no calendar form for schedule `{schedule.text}`")


def next_time(schedule: Any, after: datetime, *, calendar: Any = None, tz: tzinfo | None = None) -> datetime:
    """The first time `schedule` comes strictly after `after` (aware). `calendar` (a
    BusinessCalendar) decides the working days of `business days`; without one, Monday–Friday."""
    tz = tz or bank_timezone()
    if schedule.kind == "every":
        return after + timedelta(minutes=schedule.every_minutes)
    t = trigger(schedule, tz)
    at = after
    for _ in range(400):                          # business days: skip at most a year of days off
        nxt = t.get_next_fire_time(None, at + timedelta(microseconds=1))
        if nxt is None:                           # pragma: no cover - every form fires again
            raise ValueError(f"schedule `{schedule.text}` never comes again")
        if schedule.kind != "business_days":
            return nxt
        day = nxt.astimezone(tz).date()
        working = calendar.is_business_day(day) if calendar is not None else day.weekday() < 5
        if working:
            return nxt
        at = nxt
    raise ValueError(f"schedule `{schedule.text}` finds no working day within a year")

