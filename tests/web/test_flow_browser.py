"""The issue's done-when in real headless Chromium: the demo relationship manager submits a
group credit application large enough for the credit committee (with the route preview),
it reaches the branch's credit officer, every step is approved by the right person in their
own browser context, the three-person committee countersigns (2/3: one of them rejects and
the request still passes), and the instance page shows it finished, approved, with the
diagram. Then a veto: the chief risk officer's rejection on the committee ends it at once.
An axe scan of the approval pages finds nothing serious."""
from __future__ import annotations

import re

import pytest

from runtime.records.service import Records

from .browser import ARGS, CHROMIUM, LiveServer, needs_chromium, shot, sign_in

pytestmark = needs_chromium
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module")
def server(app):
    with LiveServer(app) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def subject(engine) -> dict:
    """A demo group led by the Shanghai branch (the demo RM's), and one of its member companies."""
    records = Records(engine)
    group = records.query("group", {"lead_branch": "sh_branch"}, limit=1).items[0]
    member = records.query("company", {"group": group["code"]}, limit=1).items[0]
    return {"code": group["code"], "name": group["name"], "member": member["credit_code"]}


class Person:
    """One person in their own browser context, signed in; page errors and CSP refusals collected."""

    def __init__(self, browser, server, user: str):
        self.context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" and not m.text.startswith(
            "Failed to load resource: the server responded with a status of 4") else None)
        self.page.on("dialog", lambda d: d.accept())          # the confirmations
        self.base = server.url
        sign_in(self.page, server.url, user)

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors


COMMITTEE_ROUTE = ["资料审核", "风险评估", "分行审批", "贷审会"]
HEAD_OFFICE_ROUTE = ["资料审核", "风险评估", "分行审批", "总行审批"]


def start_application(browser, server, subject, amount: str = "8亿",
                      route_names: list[str] = COMMITTEE_ROUTE) -> tuple[str, "Person"]:
    rm = Person(browser, server, "rm_sh_01")
    page = rm.page
    page.click("nav.mainnav >> text=发起流程")
    page.click("a.tile >> text=集团统一授信审批")
    page.fill("#subject-q", subject["name"])
    page.click("form[role=search] button")
    page.click(f".picklist a >> text={subject['name']}")
    assert page.locator(".subject-chosen").inner_text().count(subject["code"]) >= 1
    assert page.locator("[data-bf-field=approved_amount]").count() == 0          # a later step's field
    page.fill("#f-amount", amount)
    page.check("input[name=products][value=working_capital]")
    page.fill("#f-purpose", "集团成员营运资金周转")
    page.fill("input[name='sub_limits.0.borrower']", subject["member"])
    page.fill("input[name='sub_limits.0.amount']", "1亿")
    page.select_option("#f-guarantee_mode", "credit")
    page.click("button[value=preview]")                                           # refreshed on demand
    route = page.locator("#route-preview .route li")
    assert [route.nth(i).locator("strong").inner_text() for i in range(route.count())] == route_names
    if route_names == COMMITTEE_ROUTE:
        assert "孙建国、周慧、吴海涛" in page.locator("#route-preview").inner_text()
    assert page.input_value("#f-amount") == amount                               # what was typed stays
    shot(page, "flow-start-preview")
    page.click("button[value=save]")
    page.wait_for_url(re.compile(r".*/ui/flow-instances/\w+$"))
    assert page.locator(".flash").inner_text() == "已提交。"
    return page.url.rsplit("/", 1)[1], rm


def open_my_task(person: "Person", instance: str, step: str) -> None:
    page = person.page
    for box in ("mine", "pool"):                         # assigned to me, or a pool task of my role
        page.goto(f"{person.base}/ui/inbox?box={box}")
        row = page.locator("table.inbox tbody tr", has=page.locator(f"a[href^='/ui/tasks/{instance}/']"))
        if row.count():
            break
    assert row.count() == 1, page.content()
    assert row.locator("td").first.inner_text().startswith(step)
    row.locator("a").first.click()
    page.wait_for_url(re.compile(rf".*/ui/tasks/{instance}/\d+$"))


def decide(person: "Person", verdict: str, comment: str, **fields: str) -> None:
    page = person.page
    for name, value in fields.items():
        box = page.locator(f"#f-{name}")
        if not box.is_visible():                               # in the second tab
            page.click("[data-bf-tab] >> text=审查审批")
        if box.evaluate("e => e.tagName") == "SELECT":
            page.select_option(f"#f-{name}", value)
        else:
            page.fill(f"#f-{name}", value)
    page.fill("#decision-comment", comment)
    page.click(f".decision button[value={verdict}]")
    page.wait_for_url(re.compile(r".*/ui/flow-instances/\w+$"))
    assert page.locator(".flash").inner_text() == "已处理。"


def step_by(browser, server, user: str, instance: str, step: str, verdict: str, comment: str, shot_name: str = "",
            **fields: str) -> None:
    person = Person(browser, server, user)
    try:
        open_my_task(person, instance, step)
        if shot_name:
            shot(person.page, shot_name)
        decide(person, verdict, comment, **fields)
    finally:
        person.close()


def test_a_credit_application_through_the_committee_countersign(browser, server, subject):
    instance, rm = start_application(browser, server, subject)
    rm.close()
    co = Person(browser, server, "co_sh")                      # the branch reviewer sees it in the inbox
    co.page.goto(server.url + "/ui/inbox")
    assert int(co.page.locator("nav.mainnav .badge").inner_text()) >= 1
    assert co.page.locator("[data-box=mine] .count").inner_text() != "0"
    shot(co.page, "flow-inbox")
    co.close()
    step_by(browser, server, "co_sh", instance, "资料审核", "complete", "资料齐全", review_opinion="资料齐全，同意提交")
    step_by(browser, server, "risk_sh", instance, "风险评估", "complete", "风险可控", risk_rating="medium",
            risk_opinion="集团经营稳定，风险可控")
    step_by(browser, server, "head_sh", instance, "分行审批", "approve", "同意上报", shot_name="flow-task")
    step_by(browser, server, "committee_1", instance, "贷审会", "approve", "同意", approved_amount="7亿")
    step_by(browser, server, "committee_2", instance, "贷审会", "reject", "额度偏高", approved_amount="7亿")
    step_by(browser, server, "committee_3", instance, "贷审会", "approve", "同意", approved_amount="7亿")
    step_by(browser, server, "cro", instance, "贷审会", "approve", "同意", approved_amount="7亿")   # the veto holder
    rm = Person(browser, server, "rm_sh_01")
    page = rm.page
    page.goto(f"{server.url}/ui/flow-instances/{instance}")
    assert page.locator("#instance-status").inner_text() == "已办结"
    assert page.locator("#instance-outcome").inner_text().endswith("通过")       # the outcome in words
    img = page.locator("img.flow-svg")
    assert img.evaluate("i => i.complete && i.naturalWidth > 0")                 # the diagram is drawn
    timeline = page.locator("table.timeline").inner_text()
    assert timeline.count("贷审会") >= 3 and "额度偏高" in timeline
    shot(page, "flow-instance")
    rm.close()


def test_the_chief_risk_officers_veto_ends_it_at_once(browser, server, subject, engine):
    from runtime.auth.users import UserStore
    store = UserStore(engine)
    before = store.get("committee_3")
    _hold(engine, "committee_3", "chief_risk_officer", True)      # a committee member who is also the CRO
    try:
        instance, rm = start_application(browser, server, subject, amount="6亿")
        rm.close()
        step_by(browser, server, "co_sh", instance, "资料审核", "complete", "齐全", review_opinion="资料齐全")
        step_by(browser, server, "risk_sh", instance, "风险评估", "complete", "关注", risk_rating="high", risk_opinion="行业下行")
        step_by(browser, server, "head_sh", instance, "分行审批", "approve", "同意上报")
        step_by(browser, server, "committee_1", instance, "贷审会", "approve", "同意", approved_amount="5亿")
        step_by(browser, server, "committee_3", instance, "贷审会", "reject", "一票否决", approved_amount="5亿")
        person = Person(browser, server, "committee_2")              # whose task was cancelled
        page = person.page
        page.goto(f"{server.url}/ui/flow-instances/{instance}")
        assert page.locator("#instance-outcome").inner_text().endswith("否决")
        assert "一票否决" in page.locator("table.timeline").inner_text()
        page.goto(server.url + "/ui/inbox")
        assert page.locator(f"a[href^='/ui/tasks/{instance}/']").count() == 0
        person.close()
    finally:
        _hold(engine, "committee_3", "chief_risk_officer", False)
    assert store.get("committee_3").roles == before.roles


def _hold(engine, user: str, role: str, on: bool) -> None:
    from runtime.auth.tables import role_holders
    from runtime.storage.db import writing
    with writing(engine) as conn:
        conn.execute(role_holders.delete().where(role_holders.c.user_name == user, role_holders.c.role == role))
        if on:
            conn.execute(role_holders.insert().values(user_name=user, role=role, org_unit=""))


def test_accessibility_of_the_approval_pages(browser, server, subject):
    from axe_playwright_python.sync_playwright import Axe
    axe = Axe()
    instance, rm = start_application(browser, server, subject, amount="2亿", route_names=HEAD_OFFICE_ROUTE)
    pages = [("rm_sh_01", "/ui/inbox"), ("rm_sh_01", "/ui/inbox?box=started"), ("rm_sh_01", "/ui/start"),
             ("rm_sh_01", f"/ui/start/group_credit_approval?q={subject['name']}"),
             ("rm_sh_01", f"/ui/start/group_credit_approval?subject={subject['code']}"),
             ("rm_sh_01", f"/ui/flow-instances/{instance}"), ("co_sh", "/ui/inbox"), ("co_sh", "task")]
    problems = []
    people = {"rm_sh_01": rm}
    for user, path in pages:
        person = people.get(user) or people.setdefault(user, Person(browser, server, user))
        if path == "task":
            open_my_task(person, instance, "资料审核")
        else:
            person.page.goto(server.url + path)
        result = axe.run(person.page)
        for v in result.response["violations"]:
            if v["impact"] in SERIOUS:
                problems.append((path, v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]))
    for person in people.values():
        person.close()
    assert problems == []
