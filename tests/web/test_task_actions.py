"""The task page's actions (issue 12, "Pages"): the step's primary actions are buttons under the
form, the others sit behind one "更多操作" disclosure, one form at a time (exclusive <details>,
without JavaScript; Chromium checks the behaviour), a refused action opens its own form again with
what was typed; an approver of a group credit application sees the concentration ratios the route
checks (names, percentages with two decimals, the limits from the flow, over-limit marked)."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from runtime.graph.context import exposure_book
from runtime.graph.service import graph_service
from runtime.records.service import Records

from .browser import ARGS, CHROMIUM, LiveServer, needs_chromium, shot, sign_in
from .conftest import signed_in
from .test_flow_pages import FORM, group, hidden, post_action, task_of  # noqa: F401 - group is a fixture
from .test_zh_names import codes, problems_of  # noqa: F401 - codes is a fixture

MORE = re.compile(r'<details class="more-actions".*?</details>\s*</div>\s*</details>', re.S)


def _more(page: str) -> str:
    found = MORE.search(page)
    assert found, "no 更多操作 disclosure on the page"
    return found.group(0)


def _at_branch_approval(app, group, form):  # noqa: F811 - the fixture's value
    """An application of rm_sh_01 taken through the review and the risk assessment: at the branch head."""
    service = app.state.flow_pages.service
    view = service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=form)
    fields = {"document_review": {"review_opinion": "资料齐全"},
              "risk_assessment": {"risk_rating": "medium", "risk_opinion": "风险可控"}}
    while not any(t["node"] == "branch_approval" for t in view["tasks"]):
        t = view["tasks"][0]
        who = t["assignee"] or t["candidates"][0]        # a pool task (earlier tests' people): any of its pool
        view = service.act(view["id"], "complete", actor=who, task=t["id"], fields=fields[t["node"]],
                           comment="同意")
    return view


def test_primary_actions_are_buttons_and_the_others_sit_behind_one_more_control(app, group):  # noqa: F811
    view = app.state.flow_pages.service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=FORM)
    co = signed_in(app, "co_sh")
    page = co.get(f"/ui/tasks/{task_of(view, 'document_review')}").text
    decision = page.split('class="decision"')[1].split("</div>\n    </div>")[0]
    assert 'value="complete"' in decision                                   # the primary action: a button
    more = _more(page)
    assert "更多操作" in more and '<details class="more-actions" id="more-actions">' in more   # closed at first
    items = re.findall(r'<details class="more-item" name="task-more" id="more-(\w+)"( open)?>', more)
    assert items == [("return", ""), ("transfer", ""), ("comment", "")]     # one form each, all closed
    assert 'value="complete"' not in more
    assert page.count('name="task-more"') == 3                               # the exclusive group: one open at a time


def test_a_refused_action_opens_its_form_again_with_what_was_typed(app, group):  # noqa: F811
    view = app.state.flow_pages.service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=FORM)
    co = signed_in(app, "co_sh")
    url = f"/ui/tasks/{task_of(view, 'document_review')}"
    page = co.get(url).text
    r = post_action(co, url, page, _action="transfer", to="no_such_person", comment="请协助审核")
    assert r.status_code == 422 and "没有这些用户" in r.text
    more = _more(r.text)
    assert '<details class="more-actions" id="more-actions" open>' in more
    assert re.findall(r'name="task-more" id="more-(\w+)" open>', more) == ["transfer"]   # that form alone
    transfer = more.split('id="act-transfer"')[1].split("</form>")[0]
    assert 'value="no_such_person"' in transfer and "请协助审核" in transfer


def test_the_initiators_edit_step_has_resubmit_and_withdraw_as_buttons(app, group):  # noqa: F811
    service = app.state.flow_pages.service
    view = service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=FORM)
    view = service.act(view["id"], "return", actor="co_sh", task=task_of(view, "document_review"), to="initiator",
                       comment="请补充用途")
    rm = signed_in(app, "rm_sh_01")
    page = rm.get(f"/ui/tasks/{task_of(view, 'initiator')}").text
    section = page.split('id="h-form"')[1].split("</section>")[0]
    assert 'value="resubmit"' in section and 'id="act-withdraw"' in section     # both beside the form
    assert 'class="more-actions"' not in page or 'id="more-withdraw"' not in page


def test_an_approver_sees_the_concentration_ratios_with_names_and_the_limits(app, engine, group, codes):  # noqa: F811
    view = _at_branch_approval(app, group, FORM)
    head = signed_in(app, "head_sh")
    r = head.get(f"/ui/tasks/{task_of(view, 'branch_approval')}")
    assert r.status_code == 200
    panel = r.text.split('id="ratios"')[1].split("</section>")[0]
    found = exposure_book(graph_service(engine, Records(engine))).concentration(group, Decimal(FORM["amount"]))
    for key, ratio, limit in (("group", found.group_ratio, "15.00%"), ("single", found.single_ratio, "10.00%"),
                              ("connected", found.connected_ratio, "20.00%")):
        row = panel.split(f'data-ratio="{key}"')[1].split("</tr>")[0]
        shown = f"{(ratio * 100).quantize(Decimal('0.01')):f}%"
        assert f"<strong>{shown}</strong>" in row and f">{limit}<" in row, (key, row)
    assert "集团客户授信集中度" in panel and "关联客户授信集中度" in panel and "资本净额" in panel
    assert " over" not in panel.split("<tbody>")[1]                         # 2亿: within every limit
    assert not problems_of(r.text, codes)                                   # names, not codes; no English


def test_an_application_over_a_limit_is_marked(app, group):  # noqa: F811
    view = _at_branch_approval(app, group, {**FORM, "amount": Decimal("12000000000")})    # 120亿 of 300亿 capital
    page = signed_in(app, "head_sh").get(f"/ui/tasks/{task_of(view, 'branch_approval')}").text
    panel = page.split('id="ratios"')[1].split("</section>")[0]
    row = panel.split('data-ratio="group"')[0].rsplit("<tr", 1)[1]
    assert "over" in row and "超限" in panel.split('data-ratio="group"')[1].split("</tr>")[0]


# -- in Chromium ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(app):
    with LiveServer(app) as live:
        yield live


@needs_chromium
def test_in_chromium_the_more_control_opens_one_form_at_a_time_and_the_picker_picks(app, server, group):  # noqa: F811
    from playwright.sync_api import sync_playwright
    view = _at_branch_approval(app, group, FORM)
    task = task_of(view, "branch_approval")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            sign_in(page, server.url, "head_sh")
            page.goto(f"{server.url}/ui/tasks/{task}")
            assert not page.is_visible("#act-return")
            page.click("#more-actions > summary")
            page.click("#more-return > summary")
            assert page.is_visible("#act-return") and page.is_visible("#ret-to")
            page.click("#more-transfer > summary")
            assert page.is_visible("#act-transfer")
            assert not page.is_visible("#act-return")                        # one form at a time
            assert page.eval_on_selector_all(".more-item[open]", "els => els.map(e => e.id)") == ["more-transfer"]
            # the picker: search by a unit's name, pick a person; the form posts the user name
            search = page.locator("#act-transfer input[type=search]")
            search.fill("上海分行")
            page.wait_for_selector("#act-transfer [role=option]")
            page.locator("#act-transfer [role=option]", has_text="刘敏").click()
            assert page.input_value("#transfer-to") == "co_sh"
            assert page.is_visible("#act-transfer .picker-chip[data-user=co_sh]")
            # the org tree: open the head office, pick a committee member for CC
            page.click("#more-cc > summary")
            assert not page.is_visible("#act-transfer")
            page.locator("#act-cc button", has_text="按机构浏览").click()
            page.locator("#act-cc details[data-unit=head_office] > summary").click()
            page.locator("#act-cc button[data-user=committee_1]").click()
            assert page.input_value("#cc-users") == "committee_1"
            shot(page, "flow-task-more")
            page.goto(f"{server.url}/ui/flow-instances/{view['id']}/print")
            assert page.is_visible("#print-button")
            shot(page, "flow-print-sheet")
            assert not errors, errors
        finally:
            browser.close()
