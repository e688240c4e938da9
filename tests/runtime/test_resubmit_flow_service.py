"""Return to the initiator, edit, resubmit (退回发起人修改后重新提交) and reasons, through the
durable flow service on the shipped group credit approval: the edited form is checked as a start
is, the initiator may withdraw instead, reject and return need a reason, and the instance JSON
carries the 审批意见 block (`opinions`)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from runtime.flows.form_check import InvalidForm
from runtime.flows.store import FlowError

from .flow_bank import make_bank
from .test_flow_service import CREDIT, act, task_of

INITIATOR = "initiator"


@pytest.fixture
def flows(engine):
    return make_bank(engine)


def _to_branch(flows, amount=2 * 10**8):
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": amount, **CREDIT})
    v = act(flows, v, "complete", "document_review", "officer", fields={"review_opinion": "资料齐全"})
    return act(flows, v, "complete", "risk_assessment", "risk", fields={"risk_rating": "medium", "risk_opinion": "可控"})


def test_returned_to_the_initiator_edited_and_resubmitted_to_the_returning_step(flows):
    v = _to_branch(flows)
    v = act(flows, v, "return", "branch_approval", "head", to=INITIATOR, comment="请补充担保方案")
    assert [(t["node"], t["assignee"]) for t in v["tasks"]] == [(INITIATOR, "rm")]
    assert [i["node"] for i in flows.inbox("rm")["items"]] == [INITIATOR]
    task = flows.task(task_of(v, INITIATOR, "rm"))
    assert task["step"]["actions"] == ["resubmit", "withdraw", "comment"]
    assert task["returned"]["by"] == "head" and task["returned"]["comment"] == "请补充担保方案"
    assert task["returned"]["node"] == "branch_approval"

    # the edit is checked as a start: 1万 is under the form's minimum (1000万), nothing changes
    with pytest.raises(InvalidForm) as bad:
        act(flows, v, "resubmit", INITIATOR, "rm", form={"amount": "1万"})
    assert [p.path for p in bad.value.problems] == [("amount",)]
    assert flows.instance(v["id"], with_timeline=False)["version"] == v["version"]
    # a field a later step owns is not the initiator's to change
    with pytest.raises(InvalidForm) as bad:
        act(flows, v, "resubmit", INITIATOR, "rm", form={"review_opinion": "我自己审过了"})
    assert bad.value.problems[0].code == "not_editable"

    v = act(flows, v, "resubmit", INITIATOR, "rm", form={"amount": "1.5亿", "guarantee_mode": "guarantee"},
            comment="已改为保证担保")
    assert Decimal(v["form"]["amount"]) == Decimal(150_000_000)
    assert v["form"]["guarantee_mode"] == "guarantee" and v["form"]["purpose"] == CREDIT["purpose"]
    assert v["form"]["review_opinion"] == "资料齐全"                 # the reviewers' fields are kept
    assert v["current_nodes"] == ["branch_approval"]                  # from the step that returned it
    v = act(flows, v, "approve", "branch_approval", "head")
    assert v["current_nodes"] == ["head_office_review"]


def test_the_initiator_withdraws_instead_and_only_the_initiator_resubmits(flows):
    v = _to_branch(flows)
    v = act(flows, v, "return", "branch_approval", "head", to=INITIATOR, comment="额度测算有误")
    task = task_of(v, INITIATOR, "rm")
    with pytest.raises(FlowError) as refused:
        flows.act(v["id"], "resubmit", actor="head", task=task, form={})
    assert refused.value.code == "not_assignee"
    v = flows.act(v["id"], "withdraw", actor="rm")
    assert (v["status"], v["outcome"], v["tasks"]) == ("cancelled", "withdrawn", [])


def test_reject_and_return_need_a_reason_and_every_opinion_is_in_the_instance_json(flows):
    v = _to_branch(flows)
    for action, extra in (("reject", {}), ("return", {"to": INITIATOR}), ("return", {"to": "document_review"})):
        with pytest.raises(FlowError) as refused:
            act(flows, v, action, "branch_approval", "head", **extra)
        assert refused.value.code == "reason_required" and refused.value.status == 422
        assert "意见" in refused.value.render("zh")
    v = act(flows, v, "return", "branch_approval", "head", to=INITIATOR, comment="请补充担保方案")
    v = act(flows, v, "resubmit", INITIATOR, "rm", form={}, comment="已补充")
    v = act(flows, v, "reject", "branch_approval", "head", comment="集中度过高")
    assert (v["status"], v["outcome"]) == ("finished", "rejected")
    full = flows.instance(v["id"])
    rows = [(o["step"], o["person"], o["decision"], o["opinion"]) for o in full["opinions"]]
    assert rows == [("document_review", "officer", "complete", None),
                    ("risk_assessment", "risk", "complete", None),
                    ("branch_approval", "head", "return", "请补充担保方案"),
                    (INITIATOR, "rm", "resubmit", "已补充"),
                    ("branch_approval", "head", "reject", "集中度过高")]
    assert all(o["at"] for o in full["opinions"]) and full["opinions"][2]["step_label"]["zh"] == "分行审批"
    assert flows.opinions(v["id"]) == full["opinions"]
    # the timeline has each opinion with its step, person and time
    returned = next(e for e in full["timeline"] if e["kind"] == "returned")
    assert (returned["node"], returned["actor"], returned["data"]["comment"]) == \
        ("branch_approval", "head", "请补充担保方案") and returned["at"]


def test_the_first_step_offers_return_only_to_the_initiator(flows):
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 2 * 10**8, **CREDIT})
    step = flows.task(task_of(v, "document_review", "officer"))["step"]
    assert "return" in step["actions"] and step["returns"] == [INITIATOR]
    assert step["reason_required"] == ["return"]
    v = act(flows, v, "return", "document_review", "officer", to=INITIATOR, comment="缺少财务报表")
    v = act(flows, v, "resubmit", INITIATOR, "rm", form={"purpose": "流动资金周转"})
    assert v["current_nodes"] == ["document_review"] and v["form"]["purpose"] == "流动资金周转"
