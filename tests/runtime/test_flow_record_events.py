"""Flows waiting on record events hear of them from the change feed (runtime/flows/events.py):
only their own subject's records wake them, a failing `where` leaves them waiting, each change
is applied once however often the feed runs, and a wait hears only what came after it began."""
from __future__ import annotations

import functools
import logging
import shutil
import tempfile
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from alembic import command

import runtime.flows.worker  # noqa: F401 - registers the `flows` feed subscriber, as serve/worker do
from dsl.compiler import compile_path
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.flows import events
from runtime.flows.service import FlowService
from runtime.jobs import feed
from runtime.records.service import Records
from runtime.storage.migrate import _config, upgrade

from .flow_bank import company_key, make_bank

WAITS = {  # test flows about a company, each resting on one kind of record event
    "watch_twice": "- {id: first, type: wait, event: financials.updated}\n"
                   "    - {id: second, type: wait, event: financials.updated}\n"
                   "    - {id: seen, type: end, outcome: seen}",
    "watch_revenue": "- {id: watch, type: wait, event: financials.changed, where: \"event.revenue > 1000000\"}\n"
                     "    - {id: reached, type: end, outcome: reached}",
    "watch_lawsuits": "- {id: watch, type: wait, event: external_event.created,\n"
                      "       where: \"event.company.credit_code == subject.credit_code\"}\n"
                      "    - {id: sued, type: end, outcome: sued}",
    "watch_company": "- {id: watch, type: wait, event: subject.updated}\n"
                     "    - {id: changed, type: end, outcome: changed}",
}
FLOW = """apiVersion: banyan/v1
kind: Flow
metadata: {{name: {name}, label: {{zh: {name}, en: {name}}}}}
spec:
  subject: company
  start: {{who: "role('risk_manager')"}}
  nodes:
    {nodes}
"""


@functools.lru_cache(maxsize=None)
def waits_bundle():
    root = Path(tempfile.mkdtemp(prefix="banyan-waits-")) / "configs"
    shutil.copytree("configs", root)
    for name, nodes in WAITS.items():
        (root / "flows" / f"{name}.yaml").write_text(FLOW.format(name=name, nodes=nodes), encoding="utf-8")
    result = compile_path(str(root))
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.bundle


def bank(engine, clock=None) -> FlowService:
    flows = make_bank(engine, clock)
    DeploymentRegistry(engine).deploy(release_of(waits_bundle()), author="test", message="record waits")
    events.use(flows)
    return flows


def statement(code: str, period: str = "2026Q1", revenue: str = "500000") -> dict:
    money = Decimal("1000000.00")
    return {"statement_no": f"{company_key(code)}-{period}", "company": company_key(code), "period": period,
            "period_end": date(2026, 3, 31), "total_assets": 10 * money, "total_liabilities": 4 * money,
            "revenue": Decimal(revenue), "net_profit": money / 10, "operating_cash_flow": money / 5,
            "interest_expense": money / 50, "ebit": money / 4}


def lawsuit(code: str, number: int) -> dict:
    return {"event_no": f"X{number:06d}", "company": company_key(code), "type": "litigation",
            "occurred_on": date(2026, 4, 19), "title": "买卖合同纠纷", "amount": Decimal("1577696.97"),
            "role_in_case": "defendant", "severity": "low", "source": "court"}


def run_feed(engine, worker: str = "w1") -> int:
    return feed.run_once(engine, worker, names=[events.SUBSCRIBER])


def act(flows, view: dict, action: str, node: str, user: str, **kw) -> dict:
    task = next(t["id"] for t in view["tasks"] if t["node"] == node)
    return flows.act(view["id"], action, actor=user, task=task, **kw)


def watch(flows, name: str, code: str) -> dict:
    return flows.start(name, actor="risk", subject=company_key(code))


def test_the_monitor_step_hears_its_own_subjects_financials(engine):
    flows = bank(engine)
    records = Records(engine)
    v = flows.start("major_risk_disposal", actor="risk", subject=company_key("C2"),
                    form={"grade": "orange", "situation": "cash flow negative"})
    v = act(flows, v, "complete", "assess", "risk", fields={"situation": "confirmed"})
    v = act(flows, v, "complete", "risk_measures", "risk")
    v = act(flows, v, "complete", "client_contact", "rm", fields={"client_contact_note": "met CFO"})
    v = act(flows, v, "complete", "legal_review", "legal_ho")
    v = act(flows, v, "approve", "close_review", "head")
    assert v["current_nodes"] == ["monitor"]
    mine, other = (records.create("financial_statement", statement(c), actor="rm") for c in ("C2", "C1"))
    run_feed(engine)
    assert flows.instance(v["id"])["current_nodes"] == ["monitor"]         # created, not updated
    records.update("financial_statement", other["id"], {"revenue": Decimal("600000")}, actor="rm")
    run_feed(engine)
    assert flows.instance(v["id"])["version"] == v["version"]             # another company's financials
    records.update("financial_statement", mine["id"], {"revenue": Decimal("600000")}, actor="rm")
    run_feed(engine)
    done = flows.instance(v["id"])
    assert (done["status"], done["outcome"]) == ("finished", "resolved")
    received = [e for e in done["timeline"] if e["kind"] == "event_received"]
    assert [(e["node"], e["actor"], e["data"]["event"]) for e in received] == [("monitor", "system",
                                                                                 "financials.updated")]


def test_each_change_is_applied_once_however_often_the_feed_runs(engine):
    flows = bank(engine)
    records = Records(engine)
    row = records.create("financial_statement", statement("C1"), actor="rm")
    v = watch(flows, "watch_twice", "C1")
    assert v["current_nodes"] == ["first"]
    records.update("financial_statement", row["id"], {"revenue": Decimal("1")}, actor="rm")
    assert run_feed(engine, "w1") >= 1
    assert run_feed(engine, "w2") == 0 and run_feed(engine, "w1") == 0
    after = flows.instance(v["id"])
    assert after["current_nodes"] == ["second"] and after["version"] == v["version"] + 1
    assert [e["kind"] for e in after["timeline"]].count("event_received") == 1
    records.update("financial_statement", row["id"], {"revenue": Decimal("2")}, actor="rm")
    run_feed(engine, "w2")
    assert flows.instance(v["id"], with_timeline=False)["outcome"] == "seen"


def test_a_where_that_fails_leaves_the_instance_waiting(engine, caplog):
    flows = bank(engine)
    records = Records(engine)
    v = watch(flows, "watch_revenue", "C1")
    row = records.create("financial_statement", statement("C1", revenue="500000"), actor="rm")
    with caplog.at_level(logging.WARNING, logger="banyan.flows.events"):
        run_feed(engine)
    assert flows.instance(v["id"], with_timeline=False)["version"] == v["version"] and not caplog.records
    records.update("financial_statement", row["id"], {"revenue": Decimal("2000000")}, actor="rm")
    run_feed(engine)
    assert flows.instance(v["id"], with_timeline=False)["outcome"] == "reached"
    assert {s["subscriber"]: s["attempts"] for s in feed.status(engine)}[events.SUBSCRIBER] == 0


def test_a_created_record_wakes_a_wait_on_its_entity(engine):
    flows = bank(engine)
    records = Records(engine)
    mine, other = watch(flows, "watch_lawsuits", "C1"), watch(flows, "watch_lawsuits", "C2")
    records.create("external_event", lawsuit("C2", 7), actor="rm")
    run_feed(engine)
    assert flows.instance(mine["id"], with_timeline=False)["status"] == "running"
    assert flows.instance(other["id"], with_timeline=False)["outcome"] == "sued"
    records.create("external_event", lawsuit("C1", 8), actor="rm")
    run_feed(engine)
    assert flows.instance(mine["id"], with_timeline=False)["outcome"] == "sued"


def test_the_subject_itself_and_only_what_came_after_the_wait_began(engine):
    flows = bank(engine, clock=lambda: datetime.now(timezone.utc))
    records = Records(engine)
    c1 = records.find("company", company_key("C1"))
    records.update("company", c1["id"], {"name": "Acme One"}, actor="rm")       # before anyone waits
    v = watch(flows, "watch_company", "C1")
    run_feed(engine)
    assert flows.instance(v["id"], with_timeline=False)["status"] == "running"
    c2 = records.find("company", company_key("C2"))
    records.update("company", c2["id"], {"name": "Acme Two"}, actor="rm")
    run_feed(engine)
    assert flows.instance(v["id"], with_timeline=False)["status"] == "running"
    records.update("company", c1["id"], {"name": "Acme 1"}, actor="rm")
    run_feed(engine)
    assert flows.instance(v["id"], with_timeline=False)["outcome"] == "changed"


def test_revision_0007_adds_the_running_index_and_takes_it_away(engine):
    upgrade(engine)

    def indexes() -> set[str]:
        return {i["name"] for i in sa.inspect(engine).get_indexes("banyan_flow_instances")}
    assert "ix_banyan_flow_instances_running" in indexes()
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006_outbox")
    assert "ix_banyan_flow_instances_running" not in indexes()
    upgrade(engine)
    assert "ix_banyan_flow_instances_running" in indexes()
