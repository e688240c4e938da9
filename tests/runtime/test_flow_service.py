"""The four shipped flows end to end through the durable flow service (SQLite and PostgreSQL),
with the inbox, the timeline, the audit log, and a subflow in the same transaction."""
from __future__ import annotations

import json
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from runtime.flows.store import FlowError
from runtime.flows.tables import instances, tasks, timers
from runtime.jobs.outbox_tables import outbox
from runtime.storage.db import writing
from runtime.storage.tables import audit_log

from .flow_bank import company_key, make_bank

CREDIT = {"credit_type": "new", "purpose": "working capital", "products": ["working_capital"], "guarantee_mode": "credit"}


@pytest.fixture
def flows(engine):
    return make_bank(engine)


def task_of(view: dict, node: str, user: str | None = None) -> str:
    found = [t["id"] for t in view["tasks"] if t["node"] == node
             and (user is None or user == t["assignee"] or user in t["candidates"])]
    assert found, f"no task at {node} for {user}: {view['tasks']}"
    return found[0]


def act(flows, view, action, node, user, **kw):
    return flows.act(view["id"], action, actor=user, task=task_of(view, node, user), **kw)


def reviews(flows, v):
    v = act(flows, v, "complete", "document_review", "officer", fields={"review_opinion": "complete"})
    v = act(flows, v, "complete", "risk_assessment", "risk", fields={"risk_rating": "medium", "risk_opinion": "ok"})
    return act(flows, v, "approve", "branch_approval", "head")


def test_group_credit_to_the_committee_where_the_cro_vetoes(flows, engine):
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 8 * 10**8, **CREDIT})
    assert flows.inbox("officer")["counts"]["mine"] == 1
    v = reviews(flows, v)
    assert sorted(t["assignee"] for t in v["tasks"]) == ["m1", "m2", "m3"] and v["current_nodes"] == ["committee"]
    v = act(flows, v, "approve", "committee", "m1", fields={"approved_amount": 6 * 10**8})
    v = act(flows, v, "reject", "committee", "m3", comment="too concentrated")
    assert (v["status"], v["outcome"]) == ("finished", "rejected") and v["tasks"] == []
    kinds = [e["kind"] for e in flows.timeline(v["id"])]
    assert "veto" in kinds and kinds[-1] == "finished"
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tasks).where(tasks.c.status == "open")).scalar() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(timers)).scalar() == 0
        flow_audit = conn.execute(sa.select(audit_log.c.after).where(audit_log.c.action == "flow")).scalars().all()
    assert [json.loads(a)["command"] for a in flow_audit] == ["start", "complete", "complete", "approve", "approve",
                                                              "reject"]
    m2 = flows.inbox("m2")
    assert m2["counts"] == {"mine": 0, "pool": 0, "cc": 0, "overdue": 0, "done": 0}
    assert [i["node"] for i in flows.inbox("m3", "done")["items"]] == ["committee"]


def test_group_credit_within_authority_goes_to_head_office_and_notifies(flows, engine):
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 2 * 10**8, **CREDIT})
    v = reviews(flows, v)
    v = act(flows, v, "approve", "head_office_review", "ho_credit", fields={"approved_amount": 1.5 * 10**8})
    assert (v["status"], v["outcome"]) == ("finished", "approved")
    assert Decimal(v["form"]["approved_amount"]) == Decimal(1.5 * 10**8)     # money is stored exact
    with engine.connect() as conn:
        sent = conn.execute(sa.select(outbox.c.channel, outbox.c.recipient)
                            .where(outbox.c.kind == "flow_finished")).all()
    assert ("in_app", "rm") in sent and ("email", "rm") in sent and ("in_app", "gcm") in sent


def test_cross_branch_service_with_a_return_into_one_branch(flows):
    v = flows.start("cross_branch_service", actor="rm_sh", subject=company_key("C1"),
                    form={"description": "FX hedging", "needs_product_support": True, "service_type": "financing",
                          "needed_by": "2026-04-30"})
    v = act(flows, v, "complete", "coordinate", "gcm", fields={"coordination_note": "go", "needs_product_support": True})
    assert sorted(v["current_nodes"]) == ["local_service", "product_support"]
    assert flows.inbox("pm1", "pool")["total"] == 1 and flows.inbox("pm2", "pool")["total"] == 1
    v = act(flows, v, "claim", "product_support", "pm1")
    assert flows.inbox("pm2", "pool")["total"] == 0 and flows.inbox("pm1")["total"] == 1
    v = act(flows, v, "complete", "local_service", "rm_sh", fields={"service_result": "done"})
    v = act(flows, v, "complete", "product_support", "pm1")
    v = act(flows, v, "return", "confirm", "rm_sh", to="local_service", comment="请补充本地服务方案")
    assert v["current_nodes"] == ["local_service"]
    v = act(flows, v, "complete", "local_service", "rm_sh", fields={"service_result": "redone"})
    v = act(flows, v, "complete", "confirm", "rm_sh")
    assert (v["status"], v["outcome"]) == ("finished", "served")


def test_major_risk_disposal_parallel_cc_and_event(flows):
    v = flows.start("major_risk_disposal", actor="risk", subject=company_key("C2"),
                    form={"grade": "orange", "situation": "cash flow negative"})
    assert flows.inbox("rm", "cc")["total"] == 1
    v = act(flows, v, "complete", "assess", "risk", fields={"situation": "confirmed"})
    assert sorted(v["current_nodes"]) == ["client_contact", "legal_review", "risk_measures"]
    v = act(flows, v, "complete", "risk_measures", "risk")
    v = act(flows, v, "complete", "client_contact", "rm", fields={"client_contact_note": "met CFO"})
    v = act(flows, v, "complete", "legal_review", "legal_ho")
    v = act(flows, v, "approve", "close_review", "head")
    assert v["current_nodes"] == ["monitor"]
    v = flows.act(v["id"], "event", actor="system", event="financials.updated", record={})
    assert (v["status"], v["outcome"]) == ("finished", "resolved")


def test_joint_marketing_runs_its_credit_subflow_in_the_same_transaction(flows):
    v = flows.start("joint_marketing", actor="gcm", subject="G0001",
                    form={"project_name": "Acme 2026", "needs_credit": True, "credit_amount": 10**8, "products": ["credit"],
                          "target_revenue": 10**6, "start_date": "2026-04-01", "end_date": "2026-12-31"})
    v = act(flows, v, "approve", "initiation", "head")
    v = act(flows, v, "complete", "design", "pm2", fields={
        "solution": "cash pooling", "participants": [{"org_unit": "bj_branch", "lead": True, "share": "100%"}]})
    v = act(flows, v, "approve", "resources", "pm1")
    v = act(flows, v, "approve", "resources", "pm2")
    assert v["current_nodes"] == ["credit"]
    (child_task,) = flows.inbox("officer")["items"]
    child = flows.instance(child_task["instance"])
    assert child["parent"] == v["id"] and child["initiator"] == "gcm" and Decimal(child["form"]["amount"]) == 10**8
    child = reviews(flows, child)
    child = act(flows, child, "approve", "head_office_review", "ho_credit", fields={"approved_amount": 10**8})
    assert child["outcome"] == "approved"
    v = flows.instance(v["id"])
    assert v["current_nodes"] == ["tracking"] and v["form"]["credit_outcome"] == "approved"
    v = act(flows, v, "complete", "tracking", "gcm", fields={"actual_revenue": 3 * 10**6})
    v = act(flows, v, "approve", "credit_split", "head")
    assert (v["status"], v["outcome"]) == ("finished", "completed")


def test_task_page_data_and_flow_list(flows):
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 10**8, **CREDIT})
    page = flows.task(task_of(v, "document_review"))
    assert page["step"]["fields"]["required"] == ["review_opinion"] and "complete" in page["step"]["actions"]
    assert page["instance"]["id"] == v["id"]
    assert {f["name"] for f in flows.flows()} == {"group_credit_approval", "cross_branch_service",
                                                   "major_risk_disposal", "joint_marketing",
                                                   "product_suggestion", "relationship_review", "tier_override",
                                                   "config_change_approval"}
    with pytest.raises(FlowError) as err:
        flows.task("nope/1")
    assert err.value.status == 404


def test_two_starts_that_join_a_running_one_at_once_make_one_instance(flows, engine):
    """Two workers start the review of G0001 at the same moment (`join_running`, as the tiering's
    reviews and the alerts' disposals do): the second waits for the first to commit and joins it,
    rather than checking before that commit and starting a second one."""
    form = {"tier": "稳定合作", "service_package": "标准服务", "lead_role": "relationship_manager"}

    def start(conn):
        return flows.start_within(conn, "relationship_review", actor="tiering:t", subject="G0001", form=form,
                                  now=flows.clock(), join_running=True)

    def second():
        with writing(engine) as conn:
            got.append(start(conn))

    got: list[tuple[str, bool]] = []
    with writing(engine) as conn:
        got.append(start(conn))
        other = threading.Thread(target=second)
        other.start()
        other.join(timeout=1)              # let it get as far as it can while the first is not committed
    other.join()
    with engine.connect() as conn:
        made = conn.execute(sa.select(instances.c.id).where(instances.c.flow == "relationship_review")).scalars().all()
    assert made == [got[0][0]] and got == [(made[0], False), (made[0], True)]
