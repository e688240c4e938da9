"""Issue 13's "done when": a scan of the shipped rules over the demo bank opens an alert for every
firm the generator planted a deterioration in, with the rule and grade its kind implies, and every
alert it opens is confirmed by evaluating that rule directly on that subject (a fresh record
context, nothing primed). On SQLite and PostgreSQL."""
from __future__ import annotations

import collections
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.alerts import evaluate
from examples.demo_bank.bank import generate
from runtime.alerts.service import AlertService
from runtime.alerts.tables import alerts
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.records.context import Loader, RecordContext
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


def usage_grade(usage) -> str:
    return "red" if usage > 1 else "orange" if usage >= 0.95 else "yellow"


@pytest.fixture
def scanned(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine = make_engine(db_url)
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    bank = generate(scale=0.03, seed=42, transactions=0)
    seed_demo(records, bank=bank, actor="test")
    service = AlertService(engine, records=records)
    counts = service.scan()
    with engine.connect() as conn:
        opened = list(conn.execute(sa.select(alerts.c.rule, alerts.c.grade, alerts.c.subject_entity,
                                             alerts.c.subject_key).where(alerts.c.status == "open")))
    yield engine, records, service, bank.planted, counts, opened
    engine.dispose()


def test_every_planted_deterioration_opens_its_alert(scanned):
    _, _, _, planted, counts, opened = scanned
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


def test_every_alert_the_scan_opens_is_confirmed_one_subject_at_a_time(scanned):
    engine, records, service, _, _, opened = scanned
    live = records.refresh()
    rules = {r.name: r for r in service.rules(live)}
    by_entity = collections.defaultdict(list)
    for rule, grade, entity, key in opened:
        if rules[rule].scope == entity:              # a rule's own alerts (roll-ups come from members' alerts)
            by_entity[entity].append((rule, grade, key))
    assert by_entity["company"] and by_entity["group"]
    with engine.connect() as conn:
        for entity, found in by_entity.items():
            ids = keys_to_ids(conn, live, entity, [k for _, _, k in found])
            for rule, grade, key in found:
                loader = Loader(conn, live)               # nothing primed: the record context reads what it needs
                loader.given("$now", service.clock())
                ctx = RecordContext(entity, loader.row(entity, ids[key]), loader, ids[key])
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
