"""`banyan status` tells how far the business calendar reaches (a warning 60 days before the known
days end, an error past them) and which time zone times are shown in; the clock is injected."""
from __future__ import annotations

import json
from datetime import date

import pytest
from click.testing import CliRunner

from runtime.cli import status as status_cmd
from runtime.cli.main import main
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of

from .flow_bank import bundle


@pytest.fixture
def deployed(engine, db_url, monkeypatch):
    DeploymentRegistry(engine).deploy(release_of(bundle()), author="test", message="status")
    monkeypatch.setenv("BANYAN_DATABASE_URL", db_url)
    monkeypatch.delenv("BANYAN_TIMEZONE", raising=False)
    return engine


def run_on(monkeypatch, day: date, *args: str):
    monkeypatch.setattr(status_cmd, "today", lambda: day)
    return CliRunner().invoke(main, ["status", *args])


def test_well_before_the_horizon_all_is_quiet(deployed, monkeypatch):
    out = run_on(monkeypatch, date(2026, 10, 1))
    assert out.exit_code == 0, out.output
    assert "time zone: Asia/Shanghai (UTC+08:00)" in out.output
    assert "calendar: the business calendar knows holidays up to 2026-12-31" in out.output
    assert "warning" not in out.output


def test_sixty_days_before_the_horizon_it_warns(deployed, monkeypatch):
    assert "warning" not in run_on(monkeypatch, date(2026, 10, 31)).output        # 61 days left
    out = run_on(monkeypatch, date(2026, 11, 1))                                   # 60 days left
    assert out.exit_code == 0
    assert "calendar: warning: the business calendar knows holidays only up to 2026-12-31 (60 day(s) left)" \
        in out.output
    assert "configs/calendar/" in out.output and "2027" in out.output
    data = json.loads(run_on(monkeypatch, date(2026, 12, 5), "--format", "json").output)
    assert data["calendar"] == {"known_until": "2026-12-31", "days_left": 26, "level": "warning",
                                "message": data["calendar"]["message"]}
    assert "Monday–Friday" in data["calendar"]["message"]


def test_past_the_horizon_it_says_so_in_red_but_documents_still_run(deployed, monkeypatch):
    out = run_on(monkeypatch, date(2027, 1, 5))
    assert out.exit_code == 0 and "every document runs" in out.output
    assert "calendar: error: the business calendar knows holidays only up to 2026-12-31; deadlines past it " \
           "count Monday–Friday only" in out.output


def test_an_unknown_time_zone_is_reported(deployed, monkeypatch):
    monkeypatch.setenv("BANYAN_TIMEZONE", "Mars/Olympus")
    out = run_on(monkeypatch, date(2026, 10, 1))
    assert "warning: BANYAN_TIMEZONE='Mars/Olympus' is not a known time zone" in out.output
