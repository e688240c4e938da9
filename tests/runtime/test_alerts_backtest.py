"""`banyan alerts backtest`: a candidate rule against the deployed one at each month-end, over the
records as they stood then. The done-when of issue 14: lowering the debt-ratio threshold from 70%
to 65% lists the extra alerts month by month, and the list matches a direct evaluation of the
statements filed by each month-end (worked out here from the rows themselves, not by Banyan)."""
from __future__ import annotations

import calendar
import json
import os
import shutil
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from examples.demo_bank.bank import generate
from examples.demo_bank.users import seed_demo_users
from runtime.alerts.reports import latest
from runtime.alerts.service import AlertService
from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.cli.main import main
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    root = tmp_path_factory.mktemp("backtest")
    os.environ.setdefault("BANYAN_SECRET_FILE", str(root / "secret"))
    url = f"sqlite:///{root / 'bank.db'}"
    engine = make_engine(url)
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    seed_demo(records, scale=0.05, transactions=0, actor="test")
    seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
    candidate = root / "candidate"
    shutil.copytree(ROOT / "configs", candidate, ignore=shutil.ignore_patterns("tests"))
    rule = candidate / "alerts" / "debt_ratio_high.yaml"
    rule.write_text(rule.read_text(encoding="utf-8").replace("debt_ratio > 70%", "debt_ratio > 65%"), encoding="utf-8")
    rule = candidate / "alerts" / "loan_overdue.yaml"
    text = rule.read_text(encoding="utf-8")
    assert 'red: "max_overdue_days > 90"' in text
    rule.write_text(text.replace('red: "max_overdue_days > 90"', 'red: "max_overdue_days > 60"'), encoding="utf-8")
    yield engine, url, candidate
    engine.dispose()


def _groups(engine) -> dict:
    """Company id and credit code → its group's code (the demo's history moves no company)."""
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT c.id, c.credit_code, g.code FROM e_company c "
                                     "JOIN e_group g ON g.id = c.\"group\"")).all()
    return {**{i: g for i, _, g in found}, **{code: g for _, code, g in found}}


def _oracle(engine, months: list[str]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per month-end, the companies the 65% rule raises and the 70% one does not, from the
    statements filed by then: the latest ratio above the threshold and above the smaller of the
    latest two; and the groups it rolls up to that the 70% rule does not (a member at 65% and
    none at 70%: the group's yellow, one step below its worst member)."""
    groups = _groups(engine)
    with engine.connect() as conn:
        firms = dict(conn.execute(sa.text("SELECT id, credit_code FROM e_company")).all())
        rows = conn.execute(sa.text("SELECT company, period_end, total_liabilities, total_assets "
                                    "FROM e_financial_statement ORDER BY period_end")).all()
    by_firm = defaultdict(list)
    for firm, end, liabilities, assets in rows:
        by_firm[firm].append((str(end), Decimal(str(liabilities)) / Decimal(str(assets))))
    out, rolled = {}, {}
    for month in months:
        last_day = {"02": "28"}.get(month[5:], "30" if month[5:] in ("04", "06", "09", "11") else "31")
        cut = f"{month}-{last_day}"
        extra, above_65, above_70 = set(), set(), set()
        for firm, series in by_firm.items():
            filed = [r for end, r in series if end <= cut][-2:]
            if len(filed) < 2:
                continue
            ratio, lower = filed[-1], min(filed)
            if ratio > lower and ratio > Decimal("0.65"):
                above_65.add(groups[firm])
                if ratio > Decimal("0.70"):
                    above_70.add(groups[firm])
                else:
                    extra.add(firms[firm])
        out[month], rolled[month] = extra, above_65 - above_70
    return out, rolled


def test_a_lower_threshold_lists_the_alerts_it_would_have_raised(bank, monkeypatch):
    engine, url, candidate = bank
    monkeypatch.setenv("BANYAN_DATABASE_URL", url)
    done = CliRunner().invoke(main, ["alerts", "backtest", str(candidate), "--from", "2025-01", "--to", "2026-06",
                                     "--rule", "debt_ratio_high", "--format", "json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.output)
    got, got_groups = defaultdict(set), defaultdict(set)
    for c in data["changes"]:
        if c["roll_up"]:
            assert (c["rule"], c["entity"], c["kind"], c["deployed"], c["candidate"]) == \
                ("debt_ratio_high", "group", "opens", None, "yellow")
            got_groups[c["month"]].add(c["subject"])
            continue
        assert (c["rule"], c["kind"], c["deployed"], c["candidate"]) == ("debt_ratio_high", "opens", None, "orange")
        got[c["month"]].add(c["subject"])
    months = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)][:18]
    expected, expected_groups = _oracle(engine, months)
    assert any(expected.values())                       # the demo bank crosses 65% before 70%
    assert {m: s for m, s in got.items() if s} == {m: s for m, s in expected.items() if s}
    assert any(expected_groups.values())
    assert {m: s for m, s in got_groups.items() if s} == {m: s for m, s in expected_groups.items() if s}
    assert data["notes"] and "read as they stood" in data["notes"][0]
    kept = latest(engine, "debt_ratio_high")["backtest"]["body"]       # for the rule's page: counts, no subject
    assert kept["total"] == len(data["changes"]) and kept["from"] == "2025-01" and "subject" not in json.dumps(kept)
    with engine.connect() as conn:                      # nothing written
        assert conn.execute(sa.text("SELECT count(*) FROM banyan_alerts")).scalar() == 0


def _overdue_oracle(months: list[str], groups: dict) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per month-end, the companies whose longest overdue loan is 61–90 days (red under the 60-day
    candidate, orange under the deployed 90), from the generated bank's own history: its loans as
    they stood at the start, then each month-end's changes; and the groups that makes orange (one
    step below their worst member) where the deployed rule has them yellow (no member above 90)."""
    bank = generate(scale=0.05, transactions=0)
    loans = {ln["loan_no"]: dict(ln, **bank.history.initial["loan"].get(ln["loan_no"], {}))
             for ln in bank.records["loan"]}
    steps = sorted(bank.history.steps, key=lambda s: s[0])
    out, rolled = {}, {}
    for month in months:
        y, m = (int(p) for p in month.split("-"))
        cut = date(y, m, calendar.monthrange(y, m)[1])
        state = {no: dict(ln) for no, ln in loans.items()}
        for at, _entity, changes in steps:
            if at.date() <= cut:
                for key, values in changes:
                    state[key].update(values)
        longest: dict[str, int] = defaultdict(int)
        for ln in state.values():
            if ln["disbursed_on"] <= cut:
                longest[ln["borrower"]] = max(longest[ln["borrower"]], ln["overdue_days"])
        out[month] = {firm for firm, days in longest.items() if 60 < days <= 90}
        worst: dict[str, int] = defaultdict(int)
        for firm, days in longest.items():
            worst[groups[firm]] = max(worst[groups[firm]], days)
        rolled[month] = {group for group, days in worst.items() if 60 < days <= 90}
    return out, rolled


def test_loans_deteriorate_month_by_month_in_the_demo_history(bank, monkeypatch):
    """The demo bank's loans fall overdue over the 24 month-ends before its today (its audit log
    holds each month-end's changes): a candidate that turns red at 60 days instead of 90 raises
    the firms a month or two before the deployed rule, month by month, as the history says."""
    engine, url, candidate = bank
    monkeypatch.setenv("BANYAN_DATABASE_URL", url)
    done = CliRunner().invoke(main, ["alerts", "backtest", str(candidate), "--from", "2025-01", "--to", "2026-09",
                                     "--rule", "loan_overdue", "--format", "json"])
    assert done.exit_code == 0, done.output
    got, got_groups = defaultdict(set), defaultdict(set)
    for c in json.loads(done.output)["changes"]:
        if c["roll_up"]:
            assert (c["entity"], c["kind"], c["deployed"], c["candidate"]) == ("group", "raised", "yellow", "orange")
            got_groups[c["month"]].add(c["subject"])
            continue
        assert (c["kind"], c["deployed"], c["candidate"]) == ("raised", "orange", "red")
        got[c["month"]].add(c["subject"])
    months = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)][:21]
    expected, expected_groups = _overdue_oracle(months, _groups(engine))
    assert {m: s for m, s in got.items() if s} == {m: s for m, s in expected.items() if s}
    assert len({m for m, s in expected.items() if s}) >= 3         # they arrive over several months, not at once
    assert any(expected_groups.values())
    assert {m: s for m, s in got_groups.items() if s} == {m: s for m, s in expected_groups.items() if s}


def test_the_table_and_csv_and_what_is_refused(bank, monkeypatch):
    engine, url, candidate = bank
    monkeypatch.setenv("BANYAN_DATABASE_URL", url)
    runner = CliRunner()
    text = runner.invoke(main, ["alerts", "backtest", str(candidate), "--from", "2025-06", "--to", "2025-12",
                                "--rule", "debt_ratio_high"])
    assert text.exit_code == 0, text.output
    assert "debt_ratio_high: 7 month-ends" in text.output and "note:" in text.output
    csv = runner.invoke(main, ["alerts", "backtest", str(candidate), "--from", "2025-06", "--to", "2025-12",
                               "--rule", "debt_ratio_high", "--format", "csv"])
    assert csv.output.splitlines()[0] == "month,rule,kind,deployed,candidate,entity,roll_up,subject,name,branch"
    for args, words in ((["--from", "2025-13", "--to", "2026-01"], "not a month"),
                        (["--from", "2026-03", "--to", "2026-01"], "after"),
                        (["--from", "2025-01", "--to", "2025-03", "--rule", "nope"], "nope")):
        bad = runner.invoke(main, ["alerts", "backtest", str(candidate), *args])
        assert bad.exit_code == 2 and words in bad.output and "Traceback" not in bad.output, bad.output
    assert AlertService(engine).list() == []
