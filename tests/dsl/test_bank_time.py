"""One bank time zone for every door: BANYAN_TIMEZONE (Asia/Shanghai by default), naive = UTC."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from dsl.bank_time import bank_time, bank_timezone, moment_text, zone_label, zone_name, zone_problem
from forms.display import datetime_text, display_text, input_text


class DT:
    type_name = "datetime"


UTC_MOMENT = datetime(2026, 9, 30, 20, 5)          # naive: UTC, as Banyan stores it


def test_default_is_beijing_and_naive_is_utc(monkeypatch):
    monkeypatch.delenv("BANYAN_TIMEZONE", raising=False)
    assert zone_name() == "Asia/Shanghai" and zone_problem() is None
    assert bank_time(UTC_MOMENT) == datetime(2026, 10, 1, 4, 5, tzinfo=bank_timezone())
    assert moment_text(UTC_MOMENT) == "2026-10-01 04:05"
    assert moment_text(UTC_MOMENT, zone=True, seconds=True) == "2026-10-01 04:05:00 UTC+08:00"
    assert moment_text("2026-09-30T20:05:00+00:00") == "2026-10-01 04:05"
    assert moment_text(None) == "" and moment_text("not a time") == "not a time"
    assert zone_label() == "Asia/Shanghai (UTC+08:00)"


def test_the_zone_is_configurable(monkeypatch):
    monkeypatch.setenv("BANYAN_TIMEZONE", "Europe/London")
    assert zone_name() == "Europe/London"
    assert moment_text(datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc), zone=True) == "2026-07-01 13:00 UTC+01:00"


def test_an_unknown_zone_falls_back_and_says_so(monkeypatch):
    monkeypatch.setenv("BANYAN_TIMEZONE", "Asia/Shangai")
    assert zone_name() == "Asia/Shanghai"
    assert "Asia/Shangai" in zone_problem() and moment_text(UTC_MOMENT) == "2026-10-01 04:05"


def test_forms_read_and_edit_datetimes_on_the_same_clock(monkeypatch):
    monkeypatch.delenv("BANYAN_TIMEZONE", raising=False)
    assert display_text(DT(), UTC_MOMENT, "zh") == "2026-10-01 04:05"
    assert input_text(DT(), UTC_MOMENT) == "2026-10-01T04:05"
    assert display_text(DT(), UTC_MOMENT, "en", "Europe/London") == "2026-09-30 21:05"
    aware = datetime(2026, 10, 1, 4, 5, tzinfo=timezone(timedelta(hours=8)))
    assert datetime_text(aware, "UTC") == "2026-09-30 20:05"


def test_the_banks_day_is_the_banks_not_the_servers(monkeypatch):
    from datetime import date, datetime, timezone

    from dsl.bank_time import bank_day_starts, bank_today
    monkeypatch.delenv("BANYAN_TIMEZONE", raising=False)
    late_utc = datetime(2026, 12, 4, 17, 30)                  # naive UTC: 01:30 on the 5th in Shanghai
    assert bank_today(late_utc) == date(2026, 12, 5)
    assert bank_today(datetime(2026, 12, 4, 15, 59, tzinfo=timezone.utc)) == date(2026, 12, 4)
    assert bank_day_starts(date(2026, 12, 5)) == datetime(2026, 12, 4, 16, 0)
    monkeypatch.setenv("BANYAN_TIMEZONE", "UTC")
    assert bank_today(late_utc) == date(2026, 12, 4) and bank_day_starts(date(2026, 12, 5)) == datetime(2026, 12, 5)
