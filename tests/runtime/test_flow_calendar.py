"""Deadlines through FlowService on the bank's real calendar: China's 2026 National Day (chinese-calendar)
and the bank's own Calendar document, counted on the Beijing clock; past the known days, Monday–Friday
is assumed and logged, or the command is refused when the bank says so."""
from __future__ import annotations

import logging
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from dsl.compiler import compile_path
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.flows.calendar import LiveCalendar, bank_calendar, horizon, known_until
from runtime.flows.store import FlowError
from runtime.flows.tables import timers

from .flow_bank import Clock, make_bank

BJ = timezone(timedelta(hours=8))
ROOT = Path(__file__).resolve().parents[2]
CREDIT = {"amount": 2 * 10**8, "credit_type": "new", "purpose": "working capital", "products": ["working_capital"],
          "guarantee_mode": "credit"}


def start_review(flows):
    return flows.start("group_credit_approval", actor="rm", subject="G0001", form=CREDIT)


def due_of(flows, view, user="officer", node="document_review"):
    """The deadline of the instance's task at `node`, as the assignee's inbox shows it."""
    items = [i for i in flows.inbox(user)["items"] if i["instance"] == view["id"] and i["node"] == node]
    assert len(items) == 1, items
    return datetime.fromisoformat(items[0]["due_at"])


def redeploy(engine, tmp_path, calendar_yaml: str):
    """Deploy the shipped configs with the bank's calendar file replaced."""
    target = tmp_path / "configs"
    shutil.copytree(ROOT / "configs", target)
    (target / "calendar" / "bank_calendar.yaml").write_text(calendar_yaml, encoding="utf-8")
    result = compile_path(str(target))
    assert result.ok, [str(d) for d in result.diagnostics.errors]
    DeploymentRegistry(engine).deploy(release_of(result.bundle), author="test", message="calendar")


def test_two_business_days_from_the_eve_of_national_day(engine):
    flows = make_bank(engine, Clock(datetime(2026, 9, 30, 10, 0, tzinfo=BJ)))
    v = start_review(flows)
    # 10-01..10-07 are off; 10-08 and 10-09 are the two working days
    assert due_of(flows, v) == datetime(2026, 10, 9, 10, 0, tzinfo=BJ)
    with engine.connect() as conn:
        kinds = dict(conn.execute(sa.select(timers.c.kind, timers.c.due_at)).all())
    # the escalation (after: 4h) is calendar time from the deadline; stored in UTC
    assert kinds["deadline"] == datetime(2026, 10, 9, 2, 0)
    assert kinds["escalate"] == datetime(2026, 10, 9, 6, 0)


def test_a_start_late_in_the_evening_counts_on_the_beijing_clock(engine):
    # 2026-09-30 23:30 Beijing is 15:30 UTC the same day: still the 30th
    flows = make_bank(engine, Clock(datetime(2026, 9, 30, 15, 30, tzinfo=timezone.utc)))
    assert due_of(flows, start_review(flows)) == datetime(2026, 10, 9, 23, 30, tzinfo=BJ)


def test_the_bank_calendar_wins_over_the_public_one(engine, tmp_path):
    flows = make_bank(engine, Clock(datetime(2026, 9, 30, 10, 0, tzinfo=BJ)))
    redeploy(engine, tmp_path, """\
apiVersion: banyan/v1
kind: Calendar
metadata: {name: bank_calendar}
spec:
  holidays:
    - {date: 2026-10-09, label: {zh: 本行系统切换, en: Core system cut-over}}
""")
    # 10-08 counts, the bank closes 10-09, the make-up Saturday 10-10 is the second working day
    assert due_of(flows, start_review(flows)) == datetime(2026, 10, 10, 10, 0, tzinfo=BJ)


def test_past_the_known_days_weekdays_are_assumed_and_logged(engine, caplog):
    flows = make_bank(engine, Clock(datetime(2026, 12, 30, 10, 0, tzinfo=BJ)))
    with caplog.at_level(logging.WARNING, logger="banyan.calendar"):
        v = start_review(flows)
    # 12-31 is the shipped bank calendar's year-end closing; 2027 is not known: Friday 01-01, Monday 01-04
    assert due_of(flows, v) == datetime(2027, 1, 4, 10, 0, tzinfo=BJ)
    assert any("Monday–Friday was assumed" in r.getMessage() for r in caplog.records)


def test_past_the_known_days_a_refusing_bank_refuses_and_changes_nothing(engine, tmp_path):
    flows = make_bank(engine, Clock(datetime(2026, 12, 30, 10, 0, tzinfo=BJ)))
    redeploy(engine, tmp_path, """\
apiVersion: banyan/v1
kind: Calendar
metadata: {name: bank_calendar}
spec:
  beyond_known_years: refuse
""")
    with pytest.raises(FlowError) as caught:
        start_review(flows)
    assert caught.value.code == "calendar_not_covered" and "2027-01-01" in caught.value.message
    assert "configs/calendar" in caught.value.render("zh")
    assert flows.inbox("officer")["total"] == 0


def test_a_year_the_bank_lists_in_full_is_known(engine, tmp_path):
    flows = make_bank(engine, Clock(datetime(2026, 12, 30, 10, 0, tzinfo=BJ)))
    redeploy(engine, tmp_path, """\
apiVersion: banyan/v1
kind: Calendar
metadata: {name: bank_calendar}
spec:
  holidays:
    - {date: 2027-01-01, label: 元旦}
  covers_years: [2027]
  beyond_known_years: refuse
""")
    # 12-31 is a working day again (this file has no year-end closing), 01-01 is off, 01-04 is the second
    assert due_of(flows, start_review(flows)) == datetime(2027, 1, 4, 10, 0, tzinfo=BJ)
    cal = flows.calendar.current()
    assert isinstance(flows.calendar, LiveCalendar) and cal.known_until == date(2027, 12, 31)


def test_the_public_calendar_and_its_horizon():
    cal = bank_calendar(None)
    assert not cal.is_business_day(date(2026, 10, 7)) and cal.is_business_day(date(2026, 10, 10))
    assert cal.is_business_day(date(2026, 9, 20)) and not cal.is_business_day(date(2026, 10, 11))
    assert cal.known_until == date(2026, 12, 31)
    assert known_until((2028,)) == date(2026, 12, 31)            # a gap: 2027 is not known
    assert known_until((2027, 2028)) == date(2028, 12, 31)
    assert horizon(cal, date(2026, 10, 1)).level == "ok"
    soon = horizon(cal, date(2026, 11, 1))
    assert soon.level == "warning" and soon.days_left == 60 and "2027" in soon.message
    assert horizon(cal, date(2027, 1, 2)).level == "error"


def test_cli_listings_show_the_deadline_on_the_bank_clock(engine, db_url, monkeypatch):
    from click.testing import CliRunner

    from runtime.cli.main import main
    flows = make_bank(engine, Clock(datetime(2026, 9, 30, 10, 0, tzinfo=BJ)))
    start_review(flows)
    monkeypatch.setenv("BANYAN_DATABASE_URL", db_url)
    monkeypatch.delenv("BANYAN_TIMEZONE", raising=False)
    r = CliRunner().invoke(main, ["flow", "inbox", "--as", "officer"])
    assert r.exit_code == 0 and "due 2026-10-09 10:00 UTC+08:00" in r.output, r.output
    r = CliRunner().invoke(main, ["history"])
    assert r.exit_code == 0 and "UTC+08:00" in r.output
    monkeypatch.setenv("BANYAN_TIMEZONE", "UTC")
    r = CliRunner().invoke(main, ["flow", "inbox", "--as", "officer"])
    assert "due 2026-10-09 02:00 UTC+00:00" in r.output, r.output
