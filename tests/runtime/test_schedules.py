"""When a written schedule next comes, on the bank's clock (Asia/Shanghai), with the bank's
working days for `business days` and cron's own day numbers (0 and 7 are Sunday)."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from dsl.bank_time import bank_timezone
from dsl.kinds.schedule import parse_schedule
from engine.flow.calendar import BusinessCalendar
from runtime.jobs.schedules import cron_weekdays, next_time

T0 = datetime(2026, 9, 30, 23, 0, tzinfo=timezone.utc)      # Thursday 2026-10-01 07:00 in Beijing, National Day
CAL = BusinessCalendar(holidays=[date(2026, 10, d) for d in range(1, 8)], workdays=[date(2026, 10, 10)])


@pytest.mark.parametrize("text, expected", [
    ("daily 06:00", "2026-10-02 06:00"),
    ("weekdays 08:30", "2026-10-01 08:30"),
    ("business days 08:30", "2026-10-08 08:30"),          # the holiday week is skipped
    ("weekly mon 06:00", "2026-10-05 06:00"),
    ("monthly last 18:00", "2026-10-31 18:00"),
    ("monthly 1 06:00", "2026-11-01 06:00"),
    ("quarterly 06:00", "2027-01-01 06:00"),
    ("every 15m", "2026-10-01 07:15"),
    ("0 6 * * 1-5", "2026-10-02 06:00"),
    ("0 6 * * 0", "2026-10-04 06:00"),                    # Sunday, as cron means 0
])
def test_next_time(text, expected):
    s = parse_schedule(text, None)
    got = next_time(s, T0, calendar=CAL).astimezone(bank_timezone())
    assert got.strftime("%Y-%m-%d %H:%M") == expected


def test_a_make_up_saturday_is_a_business_day():
    s = parse_schedule("business days 08:30", None)
    after = datetime(2026, 10, 9, 1, 0, tzinfo=timezone.utc)          # Friday 09:00 in Beijing
    assert next_time(s, after, calendar=CAL).astimezone(bank_timezone()).date() == date(2026, 10, 10)


def test_cron_weekday_numbers_become_names():
    assert cron_weekdays("1-5") == "mon,tue,wed,thu,fri"
    assert cron_weekdays("0,6") == cron_weekdays("6,7") == "sat,sun"
    assert cron_weekdays("*/2") == "tue,thu,sat,sun"
    assert cron_weekdays("*") == "*"
