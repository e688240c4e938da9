"""Issue 12's semantics through the pages (each also has its engine test in tests/engine/flow/):
four eyes on a task step (`if_initiator` honoured on tasks), an added signer's rejection going
back to the approver who added them (加签), and the approved limit booked (登记额度) and shown on
the group's page."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from runtime.auth.org import OrgTree
from runtime.auth.tables import people
from runtime.auth.users import UserStore
from runtime.records.service import Records
from runtime.storage.db import writing

from .conftest import signed_in
from .test_flow_pages import FORM, group, hidden, post_action, task_of  # noqa: F401 - group is a fixture

FIELDS = {"document_review": {"review_opinion": "资料齐全"},
          "risk_assessment": {"risk_rating": "medium", "risk_opinion": "风险可控"}}


def _open(view: dict, node: str) -> dict:
    return next(t for t in view["tasks"] if t["node"] == node)


def _who(task: dict) -> str:
    return task["assignee"] or task["candidates"][0]


@pytest.fixture(scope="module")
def officer_rm(app, engine) -> str:
    """A Shanghai relationship manager who also holds the credit officer role (and reports to
    the branch head): the person four eyes are about."""
    store = UserStore(engine)
    if store.get("rm_co_sh") is None:
        store.save("rm_co_sh", display_name="双岗测试", org_unit="sh_branch", password="banyan-demo-2026",
                   roles=[("relationship_manager", "sh_branch"), ("credit_officer", "sh_branch")],
                   tree=OrgTree(Records(engine).live.bundle), new=True)
        with writing(engine) as conn:
            conn.execute(people.update().where(people.c.name == "rm_co_sh").values(supervisor="head_sh"))
    return "rm_co_sh"


def test_four_eyes_on_a_task_the_initiator_who_reviews_documents_gets_no_review_of_their_own(app, group, officer_rm):  # noqa: F811 - group is a fixture
    service = app.state.flow_pages.service
    view = service.start("group_credit_approval", actor=officer_rm, subject=group, form=FORM)
    review = _open(view, "document_review")
    assert officer_rm not in review["candidates"] and officer_rm != review["assignee"]
    me = signed_in(app, officer_rm)
    page = me.get(f"/ui/tasks/{review['id']}").text
    assert 'value="complete"' not in page and 'value="claim"' not in page
    assert f'/ui/tasks/{review["id"]}' not in me.get("/ui/inbox?box=pool").text
    other = signed_in(app, _who(review)).get(f"/ui/tasks/{review['id']}").text
    forged = me.post(f"/ui/tasks/{review['id']}", data={
        "csrf_token": hidden(page, "csrf_token"), "_request": hidden(other, "_request"),
        "_version": hidden(other, "_version"), "_action": "claim"}, follow_redirects=False)
    assert forged.status_code in (403, 409, 422)
    assert "四眼原则" in forged.text or "不是您的任务" in forged.text
    assert _open(service.instance(view["id"]), "document_review")["assignee"] != officer_rm


def test_an_added_signer_rejecting_sends_the_decision_back_to_the_approver_who_added_them(app, group):  # noqa: F811 - group is a fixture
    service = app.state.flow_pages.service
    view = service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=FORM)
    for node in ("document_review", "risk_assessment"):
        t = _open(view, node)
        view = service.act(view["id"], "complete", actor=_who(t), task=t["id"], fields=FIELDS[node])
    branch = _open(view, "branch_approval")
    head = signed_in(app, branch["assignee"])
    url = f"/ui/tasks/{branch['id']}"
    added = post_action(head, url, head.get(url).text, _action="add_signer", users="legal_sh", position="before",
                        comment="请法务先看担保安排")
    assert added.status_code in (200, 303), added.text
    view = service.instance(view["id"])
    legal = next(t for t in view["tasks"] if t["assignee"] == "legal_sh")
    legal_client = signed_in(app, "legal_sh")
    lurl = f"/ui/tasks/{legal['id']}"
    rejected = post_action(legal_client, lurl, legal_client.get(lurl).text, _action="reject", comment="担保不足")
    assert rejected.status_code in (200, 303), rejected.text
    view = service.instance(view["id"])
    assert view["status"] == "running"                               # one added signer does not end the request
    back = _open(view, "branch_approval")
    assert back["assignee"] == branch["assignee"]                    # the decision is the adder's again
    page = head.get(f"/ui/tasks/{back['id']}").text
    assert 'value="approve"' in page and 'value="reject"' in page
    label = re.search(r'<label for="decision-comment">([^<]*)</label>', page).group(1)
    assert label == "意见（不同意时必填）"                            # a reject needs a reason: the label says so
    timeline = signed_in(app, "rm_sh_01").get(f"/ui/flow-instances/{view['id']}").text
    assert "担保不足" in timeline


def test_the_approved_limit_is_booked_and_shown_on_the_groups_page(app, engine, group):  # noqa: F811 - group is a fixture
    service = app.state.flow_pages.service
    records = Records(engine)
    amount = Decimal("300000000")
    where = {"group": group, "level": "group_unified", "status": "active"}
    before = {f["id"]: f["amount"] for f in records.query("facility", where, limit=5).items}
    try:
        _approve_and_look(app, service, records, group, amount, where)
    finally:                                   # the demo database is shared: its limits stay as seeded
        for f in records.query("facility", where, limit=5).items:
            if f["id"] in before:
                records.update("facility", f["id"], {"amount": before[f["id"]]}, actor="test")
            else:
                records.delete("facility", f["id"], actor="test")


def _approve_and_look(app, service, records, group_code, amount, where):
    view = service.start("group_credit_approval", actor="rm_sh_01", subject=group_code,
                         form={**FORM, "amount": amount})
    for _ in range(20):                                               # every step approves, as the README's journey
        if view["status"] != "running":
            break
        t = view["tasks"][0]
        if t["node"] in FIELDS:
            view = service.act(view["id"], "complete", actor=_who(t), task=t["id"], fields=FIELDS[t["node"]])
        else:
            view = service.act(view["id"], "approve", actor=_who(t), task=t["id"], comment="同意",
                               fields={"approved_amount": str(amount)} if t["node"] != "branch_approval" else None)
    assert (view["status"], view["outcome"]) == ("finished", "approved")
    booked = records.query("facility", where, limit=5).items
    assert [f["amount"] for f in booked] == [amount]
    g = records.find("group", group_code)
    page = signed_in(app, "rm_sh_01").get(f"/ui/e/group/{g['id']}").text
    assert "¥300,000,000.00" in page
    facility = signed_in(app, "rm_sh_01").get(f"/ui/e/facility/{booked[0]['id']}").text
    assert re.search(r"集团统一授信|综合授信", facility)
