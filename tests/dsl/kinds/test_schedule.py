"""Schedules written the way people say them, and cron lines, parsed or refused."""
from __future__ import annotations

import re

import pytest

from dsl.kinds.schedule import SCHEDULE_PATTERN, parse_schedule
from dsl.source import Span

AT = Span("f", 1, 1)


@pytest.mark.parametrize("text, kind, hour, minute, day, every", [
    ("daily 06:00", "daily", 6, 0, None, None),
    ("weekdays 8:30", "weekdays", 8, 30, None, None),
    ("business days 08:30", "business_days", 8, 30, None, None),
    ("weekly mon 06:00", "weekly", 6, 0, "mon", None),
    ("monthly last 18:00", "monthly", 18, 0, "last", None),
    ("quarterly 07:15", "quarterly", 7, 15, None, None),
    ("every 15m", "every", None, None, None, 15),
    ("every 2h", "every", None, None, None, 120),
])
def test_spoken_forms(text, kind, hour, minute, day, every):
    s = parse_schedule(text, AT)
    assert (s.kind, s.hour, s.minute, s.day, s.every_minutes) == (kind, hour, minute, day, every)
    assert re.match(SCHEDULE_PATTERN, text)


def test_cron_lines_in_range():
    assert parse_schedule("0 6 * * 1-5", AT).cron == "0 6 * * 1-5"
    assert parse_schedule("*/15 * * * *", AT).kind == "cron"
    assert parse_schedule("0 24 * * *", AT) is None
    assert parse_schedule("61 6 * * *", AT) is None


@pytest.mark.parametrize("text", ["daily 25:00", "daily 6", "weekly funday 06:00", "monthly 31 06:00", "every 0m",
                                  "sometimes"])
def test_refused(text):
    assert parse_schedule(text, AT) is None
