"""Alerts as facts (issue 13): a rule reads other records' open alerts (`worst_grade(…alerts)`)
and hears `alert.opened`, so a guarantor turning red raises an orange contagion alert on every
borrower it guarantees — through the guarantee collection — in the same transaction, and the
contagion alert lifts when the guarantor's alert goes. SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from runtime.alerts import worker as alert_worker
from runtime.alerts.service import AlertService
from runtime.alerts.tables import alerts
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.live import live_from_bundle
from runtime.deploy.releases import release_of
from runtime.jobs import feed
from runtime.records.service import Records
from runtime.storage.db import make_engine

from .bundles import bundle, entity

COMPANY = entity("company", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true, max_length: 20}
    - {name: name, type: string, label: {en: Name}, required: true}
    - {name: listed_dishonest, type: bool, label: {en: Dishonest}}
    - {name: core, type: ref(company), label: {en: Core enterprise}}
""", extra="""
collections:
  - {name: guarantees_received, entity: guarantee, via: borrower, label: {en: Guarantees received}}
""")
GUARANTEE = entity("guarantee", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true, max_length: 20}
    - {name: borrower, type: ref(company), label: {en: Borrower}, required: true}
    - {name: guarantor, type: ref(company), label: {en: Guarantor}, required: true}
""")
RED = ("red.yaml", """\
apiVersion: banyan/v1
kind: AlertRule
metadata: {name: dishonest, label: {zh: 失信, en: Dishonest}}
spec:
  scope: company
  category: external
  on: [subject.updated]
  grades:
    red: "listed_dishonest == true"
  message: {zh: '{{ subject.name }} 失信', en: '{{ subject.name }} dishonest'}
""")
CONTAGION = ("contagion.yaml", """\
apiVersion: banyan/v1
kind: AlertRule
metadata: {name: contagion, label: {zh: 担保传染, en: Guarantee contagion}}
spec:
  scope: company
  category: contagion
  on: [alert.opened, alert.closed, guarantees_received.created]
  grades:
    yellow: "worst_grade(core.alerts) == 'red'"
    orange: "any(guarantees_received, g -> worst_grade(g.guarantor.alerts) == 'red')"
  message: {zh: '{{ subject.name }} 的担保人出现红色预警', en: 'A guarantor of {{ subject.name }} is red'}
""")


@pytest.fixture
def bank(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine = make_engine(db_url)
    b = bundle(COMPANY, GUARANTEE, RED, CONTAGION)
    reg = DeploymentRegistry(engine)
    out = reg.deploy(release_of(b), author="test")
    records = Records(engine, live_from_bundle(b, out.version, reg.current().model))
    service = AlertService(engine, records=records, clock=lambda: datetime(2026, 3, 2, 1, tzinfo=timezone.utc))
    alert_worker.use(service)
    records.bulk_create("company", [{"code": c, "name": n} for c, n in
                                    (("G", "担保人"), ("B1", "借款人一"), ("B2", "借款人二"), ("X", "无关"))], actor="t")
    records.create("company", {"code": "S", "name": "供应商", "core": "G"}, actor="t")
    records.bulk_create("guarantee", [{"code": "GU1", "borrower": "B1", "guarantor": "G"},
                                      {"code": "GU2", "borrower": "B2", "guarantor": "G"},
                                      {"code": "GU3", "borrower": "X", "guarantor": "B1"}], actor="t")
    while feed.run_once(engine, "w0", names=["alerts"]):
        pass
    yield engine, records, service
    engine.dispose()


def open_alerts(engine) -> dict[tuple[str, str], str]:
    with engine.connect() as conn:
        return {(r.rule, r.subject_key): r.grade for r in conn.execute(
            sa.select(alerts.c.rule, alerts.c.subject_key, alerts.c.grade).where(alerts.c.status == "open"))}


def test_a_guarantor_turning_red_reaches_the_borrowers_it_guarantees(bank):
    engine, records, service = bank
    assert open_alerts(engine) == {}
    records.update("company", records.find("company", "G")["id"], {"listed_dishonest": True}, actor="t")
    while feed.run_once(engine, "w1", names=["alerts"]):
        pass
    assert open_alerts(engine) == {("dishonest", "G"): "red", ("contagion", "B1"): "orange",
                                   ("contagion", "B2"): "orange", ("contagion", "S"): "yellow"}
    # an orange borrower is not red: X, guaranteed by B1, hears B1's alert and stays quiet
    assert ("contagion", "X") not in open_alerts(engine)
    again = service.scan()                                   # a scan agrees and writes nothing
    assert dict(again.steps) == {}
    records.update("company", records.find("company", "G")["id"], {"listed_dishonest": False}, actor="t")
    while feed.run_once(engine, "w1", names=["alerts"]):
        pass
    assert open_alerts(engine) == {}                          # the cause gone, the contagion alerts lift with it
    with engine.connect() as conn:
        lifted = conn.execute(sa.select(alerts.c.subject_key).where(alerts.c.rule == "contagion",
                                                                    alerts.c.status == "lifted")).scalars().all()
    assert sorted(lifted) == ["B1", "B2", "S"]


def test_the_alerts_a_rule_reads_are_typed():
    from dsl.compiler import compile_texts

    bad = CONTAGION[1].replace("worst_grade(core.alerts) == 'red'", "worst_grade(core.alerts) > 3")
    result = compile_texts(dict((COMPANY, GUARANTEE, RED, ("contagion.yaml", bad))))
    assert not result.ok and any(d.code == "BNY305" for d in result.diagnostics)
