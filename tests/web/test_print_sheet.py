"""The printable approval sheet (/ui/flow-instances/{id}/print; issue 12, "Pages"): the application
by names, the route taken, the 审批意见 block (step, person, decision, opinion, time) and the
signatures, on a page of its own (print CSS, A4, no navigation); out of scope it is the very 404 an
unknown instance gets."""
from __future__ import annotations

import re

from .conftest import signed_in
from .test_flow_pages import FORM, group, outsider, task_of  # noqa: F401 - fixtures
from .test_scope_matrix import _normal
from .test_zh_names import codes, problems_of  # noqa: F401 - codes is a fixture


def _decided(app, group):  # noqa: F811 - the fixture's value
    service = app.state.flow_pages.service
    view = service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=FORM)
    view = service.act(view["id"], "complete", actor="co_sh", task=task_of(view, "document_review"),
                       fields={"review_opinion": "资料齐全"}, comment="资料已核对")
    t = next(t for t in view["tasks"] if t["node"] == "risk_assessment")
    view = service.act(view["id"], "complete", actor=t["assignee"], task=t["id"],
                       fields={"risk_rating": "medium", "risk_opinion": "风险可控"})
    view = service.act(view["id"], "approve", actor="head_sh", task=task_of(view, "branch_approval"),
                       comment="同意上报总行")
    return service.instance(view["id"])


def test_the_sheet_shows_the_application_route_opinions_and_signatures_by_name(app, group, codes):  # noqa: F811
    view = _decided(app, group)
    r = signed_in(app, "rm_sh_01").get(f"/ui/flow-instances/{view['id']}/print")
    assert r.status_code == 200
    page = r.text
    assert '<link rel="stylesheet" href="/static/print.css">' in page and 'class="topbar"' not in page
    assert "集团统一授信审批单" in page
    assert "申请额度" in page and "¥200,000,000.00" in page                  # the application's fields by label
    route = re.findall(r"<li>([^<]+)</li>", page.split('class="sheet-route"')[1].split("</ol>")[0])
    assert route[:3] == ["资料审核", "风险评估", "分行审批"]
    rows = re.findall(r'<tr class="dec-(\w+)"><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>'
                      r'<td class="nowrap">([^<]+)</td></tr>', page)
    assert [(d, s, p, w, o) for d, s, p, w, o, _ in rows] == [
        ("complete", "资料审核", "刘敏", "已完成", "资料已核对"),
        ("complete", "风险评估", "林晓峰", "已完成", ""),
        ("approve", "分行审批", "马文涛", "同意", "同意上报总行")]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", at) for *_, at in rows)
    signatures = page.split('id="signatures"')[1].split("</ul>")[0]
    assert re.findall(r'class="sig-name">([^<]+)<', signatures) == ["刘敏", "林晓峰", "马文涛"]
    assert not problems_of(page, codes)                                      # names, not codes; no English
    assert 'id="print-button"' in page and "/static/print.js" in page


def test_the_print_css_is_a4_without_navigation(app):
    css = signed_in(app, "rm_sh_01").get("/static/print.css").text
    assert "size: A4" in css and ".no-print { display: none" in css


def test_out_of_scope_the_sheet_is_the_same_404_as_an_unknown_instance(app, group, outsider):  # noqa: F811
    view = app.state.flow_pages.service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=FORM)
    stranger = signed_in(app, outsider)
    hidden = stranger.get(f"/ui/flow-instances/{view['id']}/print")
    unknown = stranger.get("/ui/flow-instances/feedfacecafe/print")
    assert hidden.status_code == unknown.status_code == 404
    assert _normal(hidden.text, (view["id"],)) == _normal(unknown.text, ("feedfacecafe",))
    assert signed_in(app, "head_sh").get(f"/ui/flow-instances/{view['id']}/print").status_code == 200


def test_the_instance_page_offers_the_printed_sheet(app, group):  # noqa: F811
    view = app.state.flow_pages.service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=FORM)
    page = signed_in(app, "rm_sh_01").get(f"/ui/flow-instances/{view['id']}").text
    button = page.split('id="print-sheet"')[0].rsplit("<a", 1)[1] + page.split('id="print-sheet"')[1].split("</a>")[0]
    assert f'href="/ui/flow-instances/{view["id"]}/print"' in button and "打印审批单" in button


def test_a_delegated_task_says_on_whose_behalf_on_the_task_and_instance_pages(app, group, codes):  # noqa: F811
    service = app.state.flow_pages.service
    view = service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=FORM)
    view = service.act(view["id"], "complete", actor="co_sh", task=task_of(view, "document_review"),
                       fields={"review_opinion": "资料齐全"})
    risk = next(t for t in view["tasks"] if t["node"] == "risk_assessment")
    if risk["assignee"] is None:
        view = service.act(view["id"], "claim", actor=risk["candidates"][0], task=risk["id"])
        risk = next(t for t in view["tasks"] if t["id"] == risk["id"])
    view = service.act(view["id"], "delegate", actor=risk["assignee"], task=risk["id"], to="head_sh",
                       comment="出差期间请代为评估")
    t = next(t for t in view["tasks"] if t["node"] == "risk_assessment")
    assert (t["assignee"], t["owner"]) == ("head_sh", risk["assignee"])
    owner = app.state.web.names.people([t["owner"]])[t["owner"]]
    assert owner != t["owner"]                       # a name, not the user code
    task_page = signed_in(app, "head_sh").get(f"/ui/tasks/{t['id']}").text
    assert f"代 {owner} 处理" in task_page.split('id="on-behalf"')[1].split("</dd>")[0]
    instance_page = signed_in(app, "rm_sh_01").get(f"/ui/flow-instances/{view['id']}").text
    assert f"代 {owner} 处理" in instance_page.split('class="links open-tasks"')[1].split("</ul>")[0]
    assert not problems_of(task_page, codes)


def test_sub_tables_sit_under_their_section_and_a_transfer_says_to_whom(app, engine, group):  # noqa: F811
    from decimal import Decimal

    from runtime.records.service import Records
    member = Records(engine).query("company", {"group": group}, limit=1).items[0]
    service = app.state.flow_pages.service
    form = {**FORM, "sub_limits": [{"borrower": member["credit_code"], "amount": Decimal("100000000"),
                                    "guaranteed": False}]}
    view = service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=form)
    view = service.act(view["id"], "complete", actor="co_sh", task=task_of(view, "document_review"),
                       fields={"review_opinion": "资料齐全"})
    t = next(t for t in view["tasks"] if t["node"] == "risk_assessment")
    view = service.act(view["id"], "transfer", actor=t["assignee"], task=t["id"], to="ho_credit",
                       comment="额度较大，请总行评估")
    page = signed_in(app, "rm_sh_01").get(f"/ui/flow-instances/{view['id']}/print").text
    application = page.split('id="h-application"')[1].split("</section>")[0]
    assert not re.search(r"<caption>[^<]*</caption>\s*<tbody>\s*</tbody>", application)   # no empty heading
    guarantee = application.index("主要担保方式")
    assert application.index(member["name"]) < guarantee           # the sub-limits before the next section
    row = re.search(r'<tr class="dec-transfer">(.*?)</tr>', page, re.S).group(1)
    ho = app.state.flow_pages.people(["ho_credit"])["ho_credit"]
    assert f"转办（转交{ho}）" in row and "额度较大" in row
