"""The demo journey the README tells (issue 12, "The demo journey"), on the very database `make demo`
builds — `banyan validate configs/`, `banyan deploy configs/`, `banyan seed demo --scale 0.1`, run as
the Makefile runs them, once for this module — in headless Chromium, every person signing in through
the sign-in page in their own browser:

rm_sh_01 starts a group credit application for G0002 (the route preview names co_sh → risk_sh →
head_sh → the committee with the CRO); the credit officer completes the document review; the risk
manager returns it to the initiator with a reason; rm_sh_01 reads the reason, edits and resubmits;
it goes back to the risk assessment, whose manager transfers it through the people picker to the
head office's risk manager, who completes it; the branch head approves; two committee members
approve and the step still waits for the CRO's vote (a veto holds); the CRO approves and the
instance ends approved; the printed approval sheet shows every opinion. Then the veto: on the demo's
application already waiting at the committee, two members approve and the CRO's rejection ends it.

Screenshots journey-NN-*.png (tests/web/screenshots/ with BANYAN_SCREENSHOTS=1)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.web.app import create_app

from .browser import ARGS, CHROMIUM, LiveServer, needs_chromium, shot
from .test_flow_browser import Person, decide, open_my_task

pytestmark = needs_chromium
ROOT = Path(__file__).resolve().parents[2]
BANYAN = Path(sys.executable).with_name("banyan")
ROUTE = ["资料审核", "风险评估", "分行审批", "贷审会"]
REASON = "请补充集团2025年合并报表，并说明本次授信的担保安排"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    """`make demo`'s database, made by the same commands in a directory of its own."""
    where = tmp_path_factory.mktemp("make-demo")
    url = f"sqlite:///{where / 'demo.db'}"
    env = {**os.environ, "BANYAN_DATABASE_URL": url, "BANYAN_ACTOR": "demo"}
    for args in (["validate", "configs/"], ["deploy", "configs/", "-m", "demo bank"],
                 ["seed", "demo", "--scale", "0.1"]):
        done = subprocess.run([str(BANYAN), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, f"banyan {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    assert "in flight: group_credit_approval G0002 8亿 at committee" in done.stdout, done.stdout
    return url


@pytest.fixture(scope="module")
def demo_engine(demo_db):
    engine = make_engine(demo_db)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def server(demo_engine, tmp_path_factory):
    os.environ.setdefault("BANYAN_SECRET_FILE", str(tmp_path_factory.mktemp("secret") / "secret"))
    with LiveServer(create_app(demo_engine)) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def g0002(demo_engine) -> dict:
    """The README's group: G0002, led by rm_sh_01's Shanghai branch, and one of its member companies."""
    records = Records(demo_engine)
    group = records.query("group", {"code": "G0002"}, limit=1).items[0]
    member = records.query("company", {"group": "G0002"}, limit=1).items[0]
    return {"code": "G0002", "name": group["name"], "member": member["credit_code"]}


def test_the_readme_journey_on_the_make_demo_database(browser, server, g0002):
    assert g0002["name"] == "隆盛控股集团"                                 # as the README introduces it
    instance = _start(browser, server, g0002)
    _complete(browser, server, "co_sh", instance, "资料审核", "journey-04-document-review",
              review_opinion="资料齐全，同意提交风险评估")
    _return_to_initiator(browser, server, instance)
    _edit_and_resubmit(browser, server, instance)
    _transfer_through_the_picker(browser, server, instance)
    _complete(browser, server, "risk_ho", instance, "风险评估", "journey-09-risk-assessment",
              risk_rating="medium", risk_opinion="集团经营稳定，担保安排充分，风险可控")
    _complete(browser, server, "head_sh", instance, "分行审批", "", verdict="approve", comment="同意上报贷审会")
    _committee(browser, server, instance)
    _printed_sheet(browser, server, instance)


def test_the_chief_risk_officers_veto_rejects_the_application_waiting_at_the_committee(browser, server):
    cro = Person(browser, server, "cro")                                   # 郑宏 holds chief_risk_officer
    page = cro.page
    page.goto(server.url + "/ui/inbox")
    row = page.locator("table.inbox tbody tr", has_text="8亿").filter(has_text="贷审会")
    assert row.count() == 1, page.content()
    instance = row.locator("a[href^='/ui/tasks/']").get_attribute("href").split("/")[3]
    cro.close()
    for member in ("committee_1", "committee_2"):                           # 2 of 3: the ratio alone would pass
        _complete(browser, server, member, instance, "贷审会", "", verdict="approve", comment="同意",
                  approved_amount="8亿")
    _still_at_the_committee(browser, server, instance)
    cro = Person(browser, server, "cro")
    open_my_task(cro, instance, "贷审会")
    assert "一票否决" in cro.page.locator("dl.inline-facts").inner_text()
    shot(cro.page, "journey-14-veto")
    decide(cro, "reject", "一票否决：集团资产负债率持续攀升，担保圈风险未释放", approved_amount="8亿")
    page = cro.page
    assert page.locator("#instance-status").inner_text() == "已办结"
    assert page.locator("#instance-outcome").inner_text().endswith("否决")
    assert "一票否决：集团资产负债率持续攀升" in page.locator("table.timeline").inner_text()
    shot(page, "journey-15-vetoed")
    cro.close()
    rm = Person(browser, server, "rm_sh_01")                                # the initiator sees the end
    rm.page.goto(f"{server.url}/ui/flow-instances/{instance}")
    assert rm.page.locator("#instance-outcome").inner_text().endswith("否决")
    rm.close()


# -- the steps ---------------------------------------------------------------------------------------

def _start(browser, server, g0002) -> str:
    rm = Person(browser, server, "rm_sh_01")
    page = rm.page
    shot(page, "journey-01-home")
    page.click("nav.mainnav >> text=发起流程")
    page.click("a.tile >> text=集团统一授信审批")
    page.fill("#subject-q", g0002["code"])
    page.click("form[role=search] button")
    page.click(f".picklist a >> text={g0002['name']}")
    assert g0002["code"] in page.locator(".subject-chosen").inner_text()
    page.fill("#f-amount", "6亿")
    page.check("input[name=products][value=working_capital]")
    page.fill("#f-purpose", "集团成员营运资金周转")
    page.fill("input[name='sub_limits.0.borrower']", g0002["member"])
    page.fill("input[name='sub_limits.0.amount']", "1亿")
    page.select_option("#f-guarantee_mode", "credit")
    page.click("button[value=preview]")
    route = page.locator("#route-preview .route li")
    assert [route.nth(i).locator("strong").inner_text() for i in range(route.count())] == ROUTE
    who = [route.nth(i).locator(".approvers").inner_text() for i in range(route.count())]
    assert who[:3] == ["刘敏", "林晓峰", "马文涛"]                          # co_sh, risk_sh, head_sh by name
    assert {"孙建国", "周慧", "吴海涛", "郑宏"} <= set(re.split("[、,，]", who[3]))   # the committee and the CRO
    shot(page, "journey-02-start-preview")
    page.click("button[value=save]")
    page.wait_for_url(re.compile(r".*/ui/flow-instances/\w+$"))
    assert page.locator(".flash").inner_text() == "已提交。"
    shot(page, "journey-03-submitted")
    instance = page.url.rsplit("/", 1)[1]
    rm.close()
    return instance


def _complete(browser, server, user: str, instance: str, step: str, shot_name: str, *, verdict: str = "complete",
              comment: str = "同意", **fields: str) -> None:
    person = Person(browser, server, user)
    try:
        open_my_task(person, instance, step)
        if shot_name:
            shot(person.page, shot_name)
        decide(person, verdict, comment, **fields)
    finally:
        person.close()


def _more(page, action: str) -> None:
    """The task page's "more actions" control, then one action's form."""
    page.click("#more-actions > summary")
    page.click(f"#more-{action} > summary")


def _return_to_initiator(browser, server, instance: str) -> None:
    risk = Person(browser, server, "risk_sh")
    page = risk.page
    open_my_task(risk, instance, "风险评估")
    _more(page, "return")
    page.select_option("#ret-to", "initiator")
    page.click("#act-return button[type=submit]")                       # no reason: the browser refuses
    assert page.evaluate("document.querySelector('#return-comment').validity.valueMissing")
    assert re.search(r"/ui/tasks/", page.url)
    page.fill("#return-comment", REASON)
    shot(page, "journey-05-return")
    page.click("#act-return button[type=submit]")
    page.wait_for_url(re.compile(rf".*/ui/flow-instances/{instance}$"))
    assert page.locator(".flash").inner_text() == "已处理。"
    assert REASON in page.locator("table.timeline").inner_text()
    risk.close()


def _edit_and_resubmit(browser, server, instance: str) -> None:
    rm = Person(browser, server, "rm_sh_01")
    page = rm.page
    todo = page.locator(f"#todo a[href^='/ui/tasks/{instance}/']")            # first on the home page
    assert todo.count() == 1 and "发起人" in todo.inner_text()
    todo.click()
    page.wait_for_url(re.compile(rf".*/ui/tasks/{instance}/\d+$"))
    returned = page.locator("#returned").inner_text()
    assert REASON in returned and "林晓峰" in returned and "风险评估" in returned
    assert page.input_value("#f-purpose") == "集团成员营运资金周转"        # the application as it was sent
    page.fill("#f-amount", "5.5亿")
    page.fill("#f-purpose", "集团成员营运资金周转；已补充2025年合并报表，担保安排见附件说明")
    page.fill("#decision-comment", "已补充合并报表及担保安排说明")
    shot(page, "journey-06-resubmit")
    page.click(".decision button[value=resubmit]")
    page.wait_for_url(re.compile(rf".*/ui/flow-instances/{instance}$"))
    assert page.locator(".flash").inner_text() == "已处理。"
    tasks = page.locator(".open-tasks").inner_text()
    assert "风险评估" in tasks and "林晓峰" in tasks                          # back to the step that returned it
    shot(page, "journey-07-resubmitted")
    rm.close()


def _transfer_through_the_picker(browser, server, instance: str) -> None:
    risk = Person(browser, server, "risk_sh")
    page = risk.page
    open_my_task(risk, instance, "风险评估")
    assert "5.5亿" in page.content() or "550,000,000" in page.content()   # the resubmitted amount
    _more(page, "transfer")
    search = page.locator("#act-transfer .picker input[type=search]")
    search.fill("黄静")
    option = page.locator("#act-transfer .picker-list [role=option]", has_text="黄静")
    option.wait_for()
    shot(page, "journey-08-people-picker")
    assert "风险管理部" in option.inner_text() or "风险" in option.inner_text()    # the unit and role by name
    option.dispatch_event("mousedown")
    assert page.locator("#act-transfer .picker-chip").inner_text().startswith("黄静")
    assert page.input_value("#transfer-to") == "risk_ho"                       # the form posts the user name
    page.fill("#transfer-comment", "本笔金额较大，请总行风险管理部评估")
    shot(page, "journey-08-transfer-reason")
    page.click("#act-transfer button[type=submit]")
    page.wait_for_url(re.compile(rf".*/ui/flow-instances/{instance}$"))
    assert page.locator(".flash").inner_text() == "已处理。"
    assert "黄静" in page.locator(".open-tasks").inner_text()
    risk.close()


def _still_at_the_committee(browser, server, instance: str) -> None:
    rm = Person(browser, server, "rm_sh_01")
    page = rm.page
    page.goto(f"{server.url}/ui/flow-instances/{instance}")
    assert page.locator("#instance-status").inner_text() == "进行中"
    tasks = page.locator(".open-tasks").inner_text()
    assert "贷审会" in tasks and "郑宏" in tasks                               # waiting for the veto holder
    rm.close()


def _committee(browser, server, instance: str) -> None:
    _complete(browser, server, "committee_1", instance, "贷审会", "journey-10-committee", verdict="approve",
              comment="同意", approved_amount="5.5亿")
    _complete(browser, server, "committee_2", instance, "贷审会", "", verdict="approve", comment="同意，按期跟踪担保落实",
              approved_amount="5亿")
    _still_at_the_committee(browser, server, instance)
    _complete(browser, server, "cro", instance, "贷审会", "", verdict="approve", comment="同意，额度5亿",
              approved_amount="5亿")
    rm = Person(browser, server, "rm_sh_01")
    page = rm.page
    page.goto(f"{server.url}/ui/flow-instances/{instance}")
    assert page.locator("#instance-status").inner_text() == "已办结"
    assert page.locator("#instance-outcome").inner_text().endswith("通过")
    timeline = page.locator("table.timeline").inner_text()
    for words in (REASON, "已补充合并报表及担保安排说明", "本笔金额较大，请总行风险管理部评估", "同意上报贷审会"):
        assert words in timeline, words
    shot(page, "journey-11-approved")
    rm.close()


def _printed_sheet(browser, server, instance: str) -> None:
    rm = Person(browser, server, "rm_sh_01")
    page = rm.page
    page.goto(f"{server.url}/ui/flow-instances/{instance}")
    with rm.context.expect_page() as opened:                               # the sheet opens in a tab of its own
        page.click("#print-sheet")
    page = opened.value
    page.on("pageerror", lambda exc: rm.errors.append(str(exc)))
    page.wait_for_load_state()
    assert re.search(rf"/ui/flow-instances/{instance}/print$", page.url)
    assert page.locator(".topbar").count() == 0
    sheet = page.content()
    assert "集团统一授信审批单" in sheet and "隆盛控股集团" in sheet
    rows = page.locator("tr[class^=dec-]")
    opinions = [[c.strip() for c in rows.nth(i).locator("td").all_inner_texts()] for i in range(rows.count())]
    people = [(o[0], o[1]) for o in opinions]
    assert ("资料审核", "刘敏") in people and ("风险评估", "林晓峰") in people and ("风险评估", "黄静") in people
    assert ("分行审批", "马文涛") in people and ("贷审会", "郑宏") in people
    said = {(o[0], o[1]): o[3] for o in opinions}
    assert any(o[:2] == ["风险评估", "林晓峰"] and o[2].startswith("退回") and o[3] == REASON for o in opinions)
    assert any(o[:2] == ["风险评估", "林晓峰"] and o[2] == "转办（转交黄静）" and o[3].startswith("本笔金额较大")
               for o in opinions)                                           # to whom, said
    assert any(o[1] == "陈思远" and o[3] == "已补充合并报表及担保安排说明" for o in opinions)     # the resubmission
    assert said[("分行审批", "马文涛")] == "同意上报贷审会" and said[("贷审会", "郑宏")] == "同意，额度5亿"
    assert "资料齐全，同意提交风险评估" in sheet                             # the reviewer's field in the application
    shot(page, "journey-12-approval-sheet")
    page.emulate_media(media="print")
    shot(page, "journey-13-approval-sheet-print")
    rm.close()
