"""Issue 13's "done when": a scan of the shipped rules over the demo bank opens an alert for every
firm the generator planted a deterioration in, with the rule and grade its kind implies, and every
alert it opens is confirmed by evaluating that rule directly on that subject (a fresh record
context, nothing primed). On SQLite and PostgreSQL.

The scan runs on the demo bank's next morning (its data ends on AS_OF, 2026-06-30), so rules over
the last 90 days of transactions or the last 6 months of bureau inquiries see what the generator
planted whatever day the tests run."""
from __future__ import annotations

import collections
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from dsl.link import CIRCLE
from engine.alerts import evaluate
from examples.demo_bank.bank import generate
from runtime.alerts.service import AlertService
from runtime.alerts.tables import alerts
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.records.context import Loader
from runtime.records.service import Records
from runtime.records.store import keys_to_ids
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
# planted kind (examples/demo_bank/financials.py) → the alerts it must open: rule → allowed grades
EXPECTED = {
    "cash_flow": {"operating_cash_flow_negative": {"orange", "red"}},      # 2 or 3 quarters orange, 4 red
    "leverage": {"debt_ratio_high": {"orange"}},
    "interest_cover": {"interest_cover_low": {"red"}},
    "revenue_drop": {"revenue_drop": {"yellow"}},
    "composite": {"operating_cash_flow_negative": {"orange"}, "debt_ratio_high": {"orange"},
                  "interest_cover_low": {"red"}, "revenue_drop": {"yellow"}},
}
FINANCIAL = {"operating_cash_flow_negative", "debt_ratio_high", "interest_cover_low", "revenue_drop"}
NEXT_MORNING = datetime(2026, 7, 1, 1, 0, tzinfo=timezone.utc)     # 09:00 in Shanghai, the day after AS_OF
# rule → (grade, the firms the generator planted for it): exactly these firms get the rule's alert
EXACT = {
    "funds_round_trip": ("orange", lambda p, r: {c for a, b, _ in p["round_trips"] for c in (a, b)}),
    "large_outflow": ("yellow", lambda p, r: set(p["large_outflows"])),
    "loan_proceeds_diverted": ("orange", lambda p, r: {b for b, _ in p["loan_diversions"]}),
    "idle_funds_opportunity": ("yellow", lambda p, r: set(p["idle_funds"])),
    "bureau_inquiries_frequent": ("yellow", lambda p, r: set(p["bureau_inquiries"])),
    "share_price_drop": ("orange", lambda p, r: set(p["share_slumps"])),
    "rating_downgrade": ("orange", lambda p, r: set(p["distressed"])),
    "controller_change": ("orange", lambda p, r: _events(r, "controller_change")),
    "equity_frozen": ("orange", lambda p, r: _events(r, "equity_freeze")),
    "bond_default": ("red", lambda p, r: _events(r, "bond_default")),
}


def _events(records, kind: str) -> set[str]:
    return {e["company"] for e in records["external_event"] if e["type"] == kind}


def usage_grade(usage) -> str:
    return "red" if usage > 1 else "orange" if usage >= 0.95 else "yellow"


@pytest.fixture
def scanned(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine = make_engine(db_url)
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    bank = generate(scale=0.03, seed=42, transactions=1500)
    seed_demo(records, bank=bank, actor="test")
    service = AlertService(engine, records=records, clock=lambda: NEXT_MORNING)
    counts = service.scan()
    with engine.connect() as conn:
        opened = list(conn.execute(sa.select(alerts.c.rule, alerts.c.grade, alerts.c.subject_entity,
                                             alerts.c.subject_key).where(alerts.c.status == "open")))
    yield engine, records, service, bank, counts, opened
    engine.dispose()


def test_every_planted_deterioration_opens_its_alert(scanned):
    _, _, _, bank, counts, opened = scanned
    planted = bank.planted
    assert counts.errors == []
    got: dict[str, dict[str, str]] = collections.defaultdict(dict)
    for rule, grade, _entity, key in opened:
        got[key][rule] = grade
    missing = []
    for code, kind in sorted(planted["distressed"].items()):
        for rule, grades in EXPECTED[kind].items():
            if got[code].get(rule) not in grades:
                missing.append((code, kind, rule, sorted(grades), got[code].get(rule)))
    assert not missing, f"planted deteriorations without their alert: {missing}"
    for group, usage in planted["limit_usage"].items():
        assert got[group].get("group_limit_usage") == usage_grade(usage), (group, usage)
    # and no healthy firm trips a financial rule
    healthy = [(key, rule) for rule, _g, entity, key in opened
               if rule in FINANCIAL and entity == "company" and key not in planted["distressed"]]
    assert not healthy, f"financial alerts on firms the generator kept healthy: {healthy}"


def test_each_behaviour_market_and_event_rule_finds_exactly_its_planted_firms(scanned):
    """Round trips, outsized payments, diverted loan proceeds, idle funds (an opportunity), bureau
    inquiries, share slumps, rating cuts and the external events: the firms the generator planted,
    no others, at the rule's grade."""
    _, _, _, bank, _, opened = scanned
    for rule, (grade, planted) in EXACT.items():
        expected = planted(bank.planted, bank.records)
        got = {key: g for r, g, entity, key in opened if r == rule and entity == "company"}
        assert expected and set(got) == expected, (rule, sorted(expected ^ set(got)))
        assert set(got.values()) == {grade}, (rule, got)


def test_collateral_and_concentration_grades(scanned):
    _, _, _, bank, _, opened = scanned
    got = {(r, key): g for r, g, _e, key in opened}
    seized, drops = set(bank.planted["collateral_seized"]), set(bank.planted["collateral_drops"])
    assert seized and drops
    assert {key for r, _g, e, key in opened if r == "collateral_value_drop" and e == "company"} == seized | drops
    assert all(got[("collateral_value_drop", k)] == ("red" if k in seized else "yellow") for k in seized | drops)
    # group credit / net capital: ≥ 12% yellow, ≥ 13.5% orange, > 15% red; every other group below 11%
    for group, ratio in bank.planted["concentration"].items():
        expected = "red" if ratio > 0.15 else "orange" if ratio >= 0.135 else "yellow"
        assert got[("group_credit_concentration", group)] == expected, (group, ratio)
    assert {key for (r, key) in got if r == "group_credit_concentration"} == set(bank.planted["concentration"])


def test_every_alert_the_scan_opens_is_confirmed_one_subject_at_a_time(scanned):
    engine, records, service, _, _, opened = scanned
    live = records.refresh()
    rules = {r.name: r for r in service.rules(live)}
    by_entity = collections.defaultdict(list)
    for rule, grade, entity, key in opened:
        if rules[rule].scope == entity:              # a rule's own alerts (roll-ups come from members' alerts)
            by_entity[entity].append((rule, grade, key))
    assert by_entity["company"] and by_entity["group"] and by_entity[CIRCLE]
    with engine.connect() as conn:
        for entity, found in by_entity.items():
            ids = ({k: int(k[2:]) for _, _, k in found} if entity == CIRCLE        # GC123: the circle anchored at #123
                   else keys_to_ids(conn, live, entity, [k for _, _, k in found]))
            for rule, grade, key in found:
                loader = Loader(conn, live)               # nothing primed: the record context reads what it needs
                loader.given("$now", service.clock())
                ctx = service.context_of(loader, entity, ids[key])     # a record, or a circle as the graph has it
                finding = evaluate(rules[rule], ctx)
                assert finding.grade == grade, (rule, key, grade, finding)


def test_every_borrower_of_a_red_guarantor_has_its_contagion_alert(scanned):
    """The shipped guarantee_contagion rule reads the guarantors' alerts as facts: after the scan,
    exactly the borrowers with an active guarantee from a firm in red are orange."""
    engine, _, _, _, _, opened = scanned
    with engine.connect() as conn:
        red = set(conn.execute(sa.select(alerts.c.subject_id).where(
            alerts.c.status == "open", alerts.c.grade == "red", alerts.c.subject_entity == "company")).scalars())
        rows = conn.exec_driver_sql("SELECT g.guarantor, c.credit_code FROM e_guarantee g "
                                    "JOIN e_company c ON c.id = g.borrower WHERE g.status = 'active'").all()
    expected = {code for guarantor, code in rows if guarantor in red}
    got = {key for rule, grade, entity, key in opened if rule == "guarantee_contagion" and entity == "company"}
    assert expected and got == expected
    assert {grade for rule, grade, entity, _ in opened if rule == "guarantee_contagion" and entity == "company"} \
        == {"orange"}
