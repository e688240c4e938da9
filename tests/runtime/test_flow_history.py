"""History shows everything, through the durable flow service on the shipped group credit
approval: the timeline names the system for what the engine did by itself (also in rows stored
before the engine said so), tasks cancelled by a cancel appear with why, and the instance's
diagram drawn from that timeline ends a rejected request at its rejection, not at "审批通过"."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from engine.flow.svg import flow_svg
from runtime.flows.tables import events

from .flow_bank import bundle, make_bank
from .test_flow_service import CREDIT, act


@pytest.fixture
def flows(engine):
    return make_bank(engine)


def _start(flows):
    return flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 2 * 10**8, **CREDIT})


def test_a_rejected_request_ends_at_its_rejection_on_the_diagram_and_the_system_acts_for_itself(flows, engine):
    v = _start(flows)
    v = act(flows, v, "complete", "document_review", "officer", fields={"review_opinion": "资料齐全"})
    v = act(flows, v, "complete", "risk_assessment", "risk", fields={"risk_rating": "medium", "risk_opinion": "可控"})
    v = act(flows, v, "reject", "branch_approval", "head", comment="担保不足")
    assert (v["status"], v["outcome"]) == ("finished", "rejected")
    line = flows.timeline(v["id"])
    actors = {(e["kind"], e["actor"]) for e in line}
    assert ("reject", "head") in actors and ("complete", "officer") in actors and ("started", "rm") in actors
    assert {a for k, a in actors if k in ("step_opened", "step_rejected", "finished")} == {"system"}

    # rows stored before the engine named the system read as the system's too
    with engine.begin() as conn:
        conn.execute(sa.update(events).where(events.c.instance_id == v["id"], events.c.kind == "step_opened")
                     .values(actor="officer"))
    assert {e["actor"] for e in flows.timeline(v["id"]) if e["kind"] == "step_opened"} == {"system"}

    view = flows.instance(v["id"])
    flow = bundle().documents[("Flow", "group_credit_approval")]
    svg = flow_svg(flow, current=view["current_nodes"], events=view["timeline"])
    ended = re.search(r'<g data-node="approved"(?: class="([^"]*)")?>', svg)
    assert ended and "reached" not in (ended.group(1) or "")
    assert re.search(r'<g data-node="branch_approval" class="rejected">', svg)
    assert 'class="reached outcome-rejected"' in svg
    assert re.search(r'<g data-node="document_review" class="done">', svg)


def test_a_cancel_leaves_the_open_task_in_the_timeline_with_why(flows):
    v = _start(flows)
    open_task = v["tasks"][0]["id"]
    v = flows.act(v["id"], "cancel", actor="rm", reason="客户撤回申请")
    gone = [e for e in flows.timeline(v["id"]) if e["kind"] == "task_cancelled"]
    assert [(e["task"], e["node"], e["data"]["why"], e["actor"]) for e in gone] == \
        [(open_task, "document_review", "cancelled", "system")]
