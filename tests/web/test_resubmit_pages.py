"""Return to the initiator, edit, resubmit through the task page (TestClient POSTs): the reviewer
returns the application with a reason (none: refused, 422), the initiator's task shows the
application's form as the initiator fills it with the reviewer's words, and the edited form is
resubmitted — or withdrawn."""
from __future__ import annotations

import re
from decimal import Decimal

from runtime.records.service import Records

from .conftest import signed_in
from .test_flow_pages import FORM, group, hidden, post_action, task_of  # noqa: F401 - group is a fixture


def _returned(app, group, form=FORM):  # noqa: F811 - the fixture's value
    service = app.state.flow_pages.service
    view = service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=form)
    task = task_of(view, "document_review")
    co = signed_in(app, "co_sh")
    page = co.get(f"/ui/tasks/{task}").text
    ret = page.split('id="act-return"')[1].split("</form>")[0]
    assert '<option value="initiator"' in ret and "required" in ret          # a reason is needed here
    r = post_action(co, f"/ui/tasks/{task}", page, _action="return", to="initiator")
    assert r.status_code == 422 and "意见" in r.text                          # no reason: refused, nothing moved
    r = post_action(co, f"/ui/tasks/{task}", r.text, _action="return", to="initiator", comment="请补充授信用途说明")
    assert r.status_code == 303, r.text
    return service.instance(view["id"], with_timeline=False)


def test_the_initiator_edits_the_returned_application_on_the_task_page_and_resubmits(app, group):  # noqa: F811
    view = _returned(app, group)
    task = task_of(view, "initiator")
    rm = signed_in(app, "rm_sh_01")
    page = rm.get(f"/ui/tasks/{task}").text
    assert 'id="returned"' in page and "请补充授信用途说明" in page            # the reviewer's words
    assert 'name="amount"' in page and 'name="purpose"' in page               # the initiator's form, editable
    assert 'name="review_opinion"' not in page                                # a later step's field is not theirs
    assert 'value="resubmit"' in page
    data = {"credit_type": "new", "amount": "1.8亿", "term_months": "12", "products": "working_capital",
            "purpose": "营运资金周转，用于采购原材料", "guarantee_mode": "credit", "comment": "已补充用途"}
    bad = post_action(rm, f"/ui/tasks/{task}", page, _action="resubmit", **{**data, "amount": "1万"})
    assert bad.status_code == 422                                             # checked as a start is
    r = post_action(rm, f"/ui/tasks/{task}", bad.text, _action="resubmit", **data)
    assert r.status_code == 303, r.text
    after = app.state.flow_pages.service.instance(view["id"])
    assert Decimal(after["form"]["amount"]) == Decimal(180_000_000)
    assert after["form"]["purpose"] == "营运资金周转，用于采购原材料"
    assert after["current_nodes"] == ["document_review"]                     # from the step that returned it
    assert [(o["step"], o["decision"], o["opinion"]) for o in after["opinions"]] == [
        ("document_review", "return", "请补充授信用途说明"), ("initiator", "resubmit", "已补充用途")]
    timeline = rm.get(f"/ui/flow-instances/{view['id']}").text.split('id="h-timeline"')[1].split("</section>")[0]
    assert "发起人修改" in timeline and ">initiator<" not in timeline and "；initiator" not in timeline
    assert not re.search(r"\binitiator\b", re.sub(r"<[^>]+>", " ", timeline))  # the step by its name


def test_the_initiator_withdraws_the_returned_application_from_the_task_page(app, group):  # noqa: F811
    view = _returned(app, group)
    task = task_of(view, "initiator")
    rm = signed_in(app, "rm_sh_01")
    page = rm.get(f"/ui/tasks/{task}").text
    assert 'id="act-withdraw"' in page
    r = post_action(rm, f"/ui/tasks/{task}", page, _action="withdraw")
    assert r.status_code == 303, r.text
    after = app.state.flow_pages.service.instance(view["id"], with_timeline=False)
    assert (after["status"], after["outcome"]) == ("cancelled", "withdrawn")
    assert hidden(page, "_version")


def test_the_initiator_edits_the_sub_limits_once_with_the_members_named(app, engine, group):  # noqa: F811
    member = Records(engine).query("company", {"group": group}, limit=1).items[0]
    form = {**FORM, "sub_limits": [{"borrower": member["credit_code"], "amount": Decimal("100000000"),
                                    "guaranteed": False}]}
    view = _returned(app, group, form)
    page = signed_in(app, "rm_sh_01").get(f"/ui/tasks/{task_of(view, 'initiator')}").text
    assert "read-table" not in page                                  # the table once: in the form, editable
    row = page.split('name="sub_limits.0.borrower"')[1].split("</tr>")[0]
    assert member["name"] in row                                     # the member by name beside its code
