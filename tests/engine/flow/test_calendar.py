"""The business calendar: 调休, the bank's wall clock, calendar days against business days, and
what happens past the last known day."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from engine.flow import BusinessCalendar, CalendarNotCovered

BJ = ZoneInfo("Asia/Shanghai")
# the State Council's 2026 notice: National Day 10-01..10-07 off, Sunday 09-20 and Saturday 10-10 worked;
# Mid-Autumn 09-25..09-27 off
HOLIDAYS_2026 = [date(2026, 9, 25) + timedelta(days=i) for i in range(3)] + \
                [date(2026, 10, 1) + timedelta(days=i) for i in range(7)]
WORKDAYS_2026 = [date(2026, 9, 20), date(2026, 10, 10)]
CAL = BusinessCalendar(HOLIDAYS_2026, WORKDAYS_2026, known_until=date(2026, 12, 31), tz=BJ)


def at(y, m, d, h=9, mi=30):
    return datetime(y, m, d, h, mi, tzinfo=BJ)


@pytest.mark.parametrize("n, lands", [
    (0, at(2026, 9, 30)),          # the day itself is a working day
    (1, at(2026, 10, 8)),          # Golden Week skipped
    (2, at(2026, 10, 9)),
    (3, at(2026, 10, 10)),         # the make-up Saturday is worked
    (4, at(2026, 10, 12)),         # Sunday 10-11 is not
])
def test_business_days_across_national_day(n, lands):
    assert CAL.add(at(2026, 9, 30), n, "business_days") == lands


def test_calendar_days_count_the_holidays():
    assert CAL.add(at(2026, 9, 30), 1, "days") == at(2026, 10, 1)
    assert CAL.add(at(2026, 9, 30), 1, "weeks") == at(2026, 10, 7)
    assert CAL.add(at(2026, 9, 30), 4, "hours") == at(2026, 9, 30, 13, 30)


def test_a_make_up_sunday_is_a_working_day_and_a_start_on_a_holiday_waits():
    assert CAL.is_business_day(date(2026, 9, 20)) and not CAL.is_business_day(date(2026, 10, 5))
    # started on a holiday: counted from the next working day's same time
    assert CAL.add(at(2026, 10, 3, 15, 0), 1, "business_days") == at(2026, 10, 9, 15, 0)


def test_counting_back_for_a_reminder_skips_the_holidays():
    assert CAL.add(at(2026, 10, 8), -1, "business_days") == at(2026, 9, 30)


def test_days_are_counted_on_the_bank_clock_not_utc():
    # 2026-09-30 20:00 UTC is 10-01 04:00 in Beijing: a holiday, so one business day is 10-09 04:00 Beijing
    start = datetime(2026, 9, 30, 20, 0, tzinfo=timezone.utc)
    end = CAL.add(start, 1, "business_days")
    assert end == at(2026, 10, 9, 4, 0)
    # the same moment counted on UTC's date would land on 10-08
    assert BusinessCalendar(HOLIDAYS_2026, WORKDAYS_2026).add(start, 1, "business_days").date() == date(2026, 10, 8)


def test_past_the_known_days_weekdays_are_assumed_and_said():
    start = at(2026, 12, 30)
    end = CAL.add(start, 2, "business_days")
    assert end == at(2027, 1, 1)          # New Year's Day is not known yet: Monday–Friday assumed
    assert CAL.beyond_horizon(start, end) and not CAL.beyond_horizon(start, at(2026, 12, 31))
    assert CAL.covers(date(2026, 12, 31)) and not CAL.covers(date(2027, 1, 1))


def test_past_the_known_days_a_refusing_calendar_refuses():
    strict = BusinessCalendar(HOLIDAYS_2026, WORKDAYS_2026, known_until=date(2026, 12, 31), beyond="refuse", tz=BJ)
    assert strict.add(at(2026, 12, 30), 1, "business_days") == at(2026, 12, 31)
    with pytest.raises(CalendarNotCovered) as caught:
        strict.add(at(2026, 12, 30), 2, "business_days")
    assert caught.value.code == "calendar_not_covered" and "2027-01-01" in caught.value.message
    assert "年" in caught.value.render("zh")
    assert strict.add(at(2026, 12, 30), 5, "days") == at(2027, 1, 4)     # calendar time needs no calendar


def test_a_wrong_fallback_is_refused():
    with pytest.raises(ValueError):
        BusinessCalendar(beyond="guess")  # type: ignore[arg-type]
