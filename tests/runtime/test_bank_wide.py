"""Bank-wide facts: an entity declared `bank_wide: true` (the bank's capital) is read by name in any
rule — `exposure / latest(capital).net_capital` — as the records in effect on the day the rule runs
(time field on or before it): a figure effective later is not there yet, and before the first
figure the rule cannot decide (null), never a default. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from dsl.compiler import compile_texts
from runtime.alerts.service import AlertService
from runtime.alerts.tables import alerts
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.live import live_from_bundle
from runtime.deploy.releases import release_of
from runtime.records.service import Records
from runtime.storage.db import make_engine

from .bundles import bundle, entity

CAPITAL = entity("capital", """
    - {name: code, type: string, label: {en: Period}, required: true, unique: true}
    - {name: effective_on, type: date, label: {en: Effective on}, required: true}
    - {name: net_capital, type: money, currency: CNY, label: {en: Net capital}, required: true}
""", extra="bank_wide: true\ntime_field: effective_on")
CLIENT = entity("client", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true}
    - {name: name, type: string, label: {en: Name}, required: true}
    - {name: exposure, type: money, currency: CNY, label: {en: Exposure}}
""")
RULE = ("concentration.yaml", """\
apiVersion: banyan/v1
kind: AlertRule
metadata: {name: concentration, label: {zh: 集中度, en: Concentration}}
spec:
  scope: client
  category: concentration
  on: [{schedule: daily 06:00}]
  grades:
    yellow: "exposure / latest(capital).net_capital >= 12%"
    red: "exposure / latest(capital).net_capital > 15%"
  message: {zh: '{{ subject.name }}', en: '{{ subject.name }}'}
  evidence:
    - {label: {zh: 资本净额, en: Net capital}, value: "latest(capital).net_capital"}
""")


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def bank(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine = make_engine(db_url)
    b = bundle(CAPITAL, CLIENT, RULE)
    reg = DeploymentRegistry(engine)
    out = reg.deploy(release_of(b), author="test")
    records = Records(engine, live_from_bundle(b, out.version, reg.current().model))
    records.create("client", {"code": "C1", "name": "甲", "exposure": "1300000000"}, actor="ann")   # 13亿
    yield engine, records
    engine.dispose()


def grades(engine, records, day: date) -> dict:
    service = AlertService(engine, records=records, clock=lambda: at(day))
    service.scan()
    with engine.connect() as conn:
        return {r.subject_key: (r.grade, r.evidence) for r in conn.execute(
            alerts.select().where(alerts.c.status == "open", alerts.c.rule == "concentration"))}


def test_the_figure_in_effect_on_the_day_decides(bank):
    engine, records = bank
    assert grades(engine, records, date(2026, 1, 5)) == {}          # no figure yet: nothing decided
    records.create("capital", {"code": "2025Q4", "effective_on": "2025-12-31", "net_capital": "10000000000"},
                   actor="fin")                                        # 13亿 / 100亿 = 13%: yellow
    records.create("capital", {"code": "2026Q1", "effective_on": "2026-03-31", "net_capital": "8000000000"},
                   actor="fin")                                        # 16.25% from 31 March: red
    found = grades(engine, records, date(2026, 2, 1))
    assert found["C1"][0] == "yellow" and "10000000000" in str(found["C1"][1])
    assert grades(engine, records, date(2026, 4, 1))["C1"][0] == "red"


def test_a_bank_wide_name_is_known_to_rules_only_when_declared():
    texts = dict([CLIENT, RULE, (CAPITAL[0], CAPITAL[1].replace("bank_wide: true\n", ""))])
    result = compile_texts(texts)
    assert not result.ok
    unknown = [d for d in result.diagnostics if d.code == "BNY302"]
    assert unknown and all("unknown name `capital`" in d.message for d in unknown)
