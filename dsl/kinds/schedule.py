"""Schedules for periodic work (re-tiering, alert sweeps), written the way people say them.

Forms accepted (times are the bank's local time, 24-hour, always quoted by the parser as text):

- `daily 06:00`
- `weekdays 08:30`            (Monday to Friday)
- `business days 08:30`       (the bank's working-day calendar)
- `weekly mon 06:00`          (mon tue wed thu fri sat sun)
- `monthly 1 06:00`           (day of month 1-28, or `last`)
- `quarterly 06:00`           (the first day of each quarter)
- `every 15m` / `every 2h`    (an interval)
- a five-field cron line: `0 6 * * 1-5`
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from dsl.source import Span

_TIME = r"([01]?\d|2[0-3]):([0-5]\d)"
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FORMS = [
    ("daily", re.compile(rf"^daily\s+{_TIME}$")),
    ("weekdays", re.compile(rf"^weekdays\s+{_TIME}$")),
    ("business_days", re.compile(rf"^business\s+days\s+{_TIME}$")),
    ("weekly", re.compile(rf"^weekly\s+({'|'.join(_DAYS)})\s+{_TIME}$")),
    ("monthly", re.compile(rf"^monthly\s+([1-9]|1\d|2[0-8]|last)\s+{_TIME}$")),
    ("quarterly", re.compile(rf"^quarterly\s+{_TIME}$")),
    ("every", re.compile(r"^every\s+(\d+)\s*(m|min|h|d)$")),
]
_CRON_FIELD = r"(\*|\d+(-\d+)?(,\d+(-\d+)?)*)(/\d+)?"
_CRON = re.compile(rf"^{_CRON_FIELD}(\s+{_CRON_FIELD}){{4}}$")

SCHEDULE_PATTERN = (r"^\s*((daily|weekdays|business\s+days|quarterly)\s+\d{1,2}:\d{2}|weekly\s+(mon|tue|wed|thu|fri|sat|sun)"
                    r"\s+\d{1,2}:\d{2}|monthly\s+(\d{1,2}|last)\s+\d{1,2}:\d{2}|every\s+\d+\s*(m|min|h|d)|"
                    r"[-*/,0-9]+(\s+[-*/,0-9]+){4})\s*$")

SCHEDULE = {"type": "string", "pattern": SCHEDULE_PATTERN,
            "description": "When: `daily 06:00`, `weekdays 08:30`, `business days 08:30`, `weekly mon 06:00`, "
                           "`monthly 1 06:00`, `monthly last 18:00`, `quarterly 06:00`, `every 15m`, or a cron "
                           "line `0 6 * * 1-5`. Local time of the bank.",
            "x-hint": "write e.g. `daily 06:00`, `weekly mon 06:00`, `every 15m` or a cron line `0 6 * * 1-5`"}


@dataclass(frozen=True, slots=True)
class Schedule:
    kind: str            # daily | weekdays | business_days | weekly | monthly | quarterly | every | cron
    text: str
    hour: int | None
    minute: int | None
    day: str | None      # weekday (weekly) or day of month / `last` (monthly)
    every_minutes: int | None
    cron: str | None
    span: Span


def parse_schedule(text: str, span: Span) -> Schedule | None:
    """The schedule written as text, or None when it has none of the accepted forms."""
    t = " ".join(text.split())
    for kind, pattern in _FORMS:
        m = pattern.match(t)
        if not m:
            continue
        g = m.groups()
        if kind == "every":
            n = int(g[0])
            minutes = n * {"m": 1, "min": 1, "h": 60, "d": 1440}[g[1]]
            return Schedule(kind, t, None, None, None, minutes, None, span) if minutes > 0 else None
        if kind in ("weekly", "monthly"):
            return Schedule(kind, t, int(g[1]), int(g[2]), g[0], None, None, span)
        return Schedule(kind, t, int(g[0]), int(g[1]), None, None, None, span)
    if _CRON.match(t) and _cron_in_range(t):
        return Schedule("cron", t, None, None, None, None, t, span)
    return None


_CRON_LIMITS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _cron_in_range(t: str) -> bool:
    for part, (lo, hi) in zip(t.split(), _CRON_LIMITS):
        for number in re.findall(r"\d+", part.split("/")[0]):
            if not lo <= int(number) <= hi:
                return False
    return True
