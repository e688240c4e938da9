"""On a phone (issue 12, "Pages": a collapsed menu and the to-do list first, so an approver can act
from a phone). Below 700px the navigation folds behind one menu button (static/app.js; without
JavaScript the menu stays open: nojs.css), the home page shows the person's to-do list before
anything else, and the home, inbox, task and instance pages fit 390px: the page never scrolls
sideways (a wide table scrolls inside its own box)."""
from __future__ import annotations

import re

import pytest

from .browser import ARGS, CHROMIUM, LiveServer, needs_chromium, shot, sign_in
from .conftest import signed_in
from .test_flow_pages import FORM, group, task_of  # noqa: F401 - group is a fixture

PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def waiting(app, group):  # noqa: F811 - the fixture's value
    """An application waiting at the credit officer's document review: co_sh has it to do."""
    view = app.state.flow_pages.service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=FORM)
    return {"instance": view["id"], "task": task_of(view, "document_review")}


# -- the markup (no browser) ------------------------------------------------------------------------

def test_the_menu_button_controls_the_menu_and_says_its_name_in_the_persons_language(app):
    page = signed_in(app, "rm_sh_01").get("/ui/").text
    button = re.search(r'<button type="button" class="navtoggle" id="navtoggle"([^>]*)>(.*?)</button>', page, re.S)
    assert button, page
    assert 'aria-expanded="false"' in button.group(1) and 'aria-controls="topmenu"' in button.group(1)
    assert "菜单" in button.group(2)
    menu = page.split('<div class="topmenu" id="topmenu">')[1].split("</header>")[0]
    assert 'class="mainnav"' in menu and 'href="/ui/inbox"' in menu and 'action="/ui/signout"' in menu
    assert '<noscript><link rel="stylesheet" href="/static/nojs.css"></noscript>' in page
    assert page.index('id="navtoggle"') < page.index('id="topmenu"')          # the CSS's `~` needs this order
    client = signed_in(app, "rm_sh_01")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/").text).group(1)
    client.post("/ui/lang", data={"csrf_token": token, "to": "en", "next": "/ui/"})
    assert re.search(r'id="navtoggle"[^>]*>.*?Menu.*?</button>', client.get("/ui/").text, re.S)


def test_no_menu_button_before_sign_in_and_the_language_switch_stays_in_reach(app):
    from fastapi.testclient import TestClient
    page = TestClient(app).get("/ui/signin").text
    assert 'id="navtoggle"' not in page and 'class="topbar"' in page
    assert 'action="/ui/lang"' in page


def test_the_static_files_fold_the_menu_below_700px_and_unfold_it_without_javascript(app):
    client = signed_in(app, "rm_sh_01")
    css = client.get("/static/banyan.css").text
    narrow = css.split("@media (max-width: 699.98px)")[1]
    assert '.navtoggle[aria-expanded="false"] ~ .topmenu { display: none; }' in narrow.split("\n}")[0]
    nojs = client.get("/static/nojs.css")
    assert nojs.status_code == 200 and ".topmenu { display: flex !important; }" in nojs.text
    assert 'getElementById("navtoggle")' in client.get("/static/app.js").text


def test_the_home_page_shows_the_to_do_list_first(app, waiting, group):  # noqa: F811
    page = signed_in(app, "co_sh").get("/ui/").text
    assert page.index('id="todo"') < page.index('id="h-ent"') < page.index('id="h-you"')
    todo = page.split('id="todo"')[1].split("</section>")[0]
    service = app.state.flow_pages.service
    first = service.inbox_page("co_sh", "mine", limit=5, sort="due")["items"]  # the most urgent five, in order
    hrefs = re.findall(r'href="(/ui/tasks/[^"]+)"', todo)
    assert hrefs == [f"/ui/tasks/{it['task']}" for it in first]
    assert waiting["task"] in [it["task"] for it in service.inbox_page("co_sh", "mine", limit=500)["items"]]
    top = first[0]                                                            # names and the amount as read
    name = app.state.flow_pages.subject_labels("group", [top["subject"]])[top["subject"]]
    flow = app.state.flow_pages.current_flows()[top["flow"]]
    assert name in todo and app.state.flow_pages.node_label(flow, top["node"], "zh") in todo
    if top["node"] == "document_review":
        assert "资料审核" in todo and "亿" in todo
    assert top["subject"] not in todo                                         # the name, not the code
    assert re.search(r"时限 \d{4}-\d\d-\d\d \d\d:\d\d", todo)                 # when it is due, said so
    count = int(re.search(r'<span class="count">(\d+)</span>', todo).group(1))
    mine = app.state.flow_pages.service.inbox("co_sh", "mine", limit=1)["counts"]["mine"]
    assert count == mine and todo.count("<li") == min(mine, 5)
    if mine > 5:
        assert f"查看全部待办（{mine}）" in todo


def test_nothing_to_do_says_so(app):
    page = signed_in(app, "legal_sh").get("/ui/").text
    todo = page.split('id="todo"')[1].split("</section>")[0]
    assert "暂无待办事项。" in todo and "<li" not in todo


# -- in Chromium at 390 x 844 -----------------------------------------------------------------------

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


def _phone(browser, **options):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context, page, errors


def _fits(page) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"{page.url}: the page is {width}px wide on a {inner}px screen"


def _no_serious_axe_problem(page) -> None:
    from axe_playwright_python.sync_playwright import Axe
    found = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in Axe().run(page).response["violations"]
             if v["impact"] in ("serious", "critical")]
    assert found == [], found


@needs_chromium
def test_on_a_phone_the_menu_folds_and_the_to_do_list_comes_first(browser, server, waiting):
    context, page, errors = _phone(browser)
    sign_in(page, server.url, "co_sh")
    toggle, menu = page.locator("#navtoggle"), page.locator("#topmenu")
    assert toggle.is_visible() and menu.is_hidden()
    assert page.locator("nav.mainnav a[href='/ui/inbox']").is_hidden()
    assert toggle.get_attribute("aria-expanded") == "false"
    todo = page.locator("#todo").bounding_box()
    assert todo["y"] < page.locator("#h-ent").bounding_box()["y"]
    assert todo["y"] < PHONE["height"]                                       # on the first screen
    _fits(page)
    shot(page, "mobile-home")
    _no_serious_axe_problem(page)
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and menu.is_visible()
    assert page.locator("nav.mainnav a[href='/ui/inbox']").is_visible()
    _fits(page)
    _no_serious_axe_problem(page)
    shot(page, "mobile-menu")
    page.keyboard.press("Escape")
    assert menu.is_hidden() and toggle.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.id") == "navtoggle"
    toggle.click()
    page.click("nav.mainnav a[href='/ui/inbox']")                          # the menu leads on
    page.wait_for_url(server.url + "/ui/inbox")
    assert page.locator("#topmenu").is_hidden()                               # folded again on the next page
    assert page.locator("table.inbox a[href^='/ui/tasks/']").first.is_visible()
    _fits(page)
    shot(page, "mobile-inbox")
    page.goto(server.url + "/ui/")
    first = page.locator("#todo a[href^='/ui/tasks/']").first                  # the most urgent task
    href = first.get_attribute("href")
    first.click()                                                             # act from the to-do list
    page.wait_for_url(re.compile(rf".*{re.escape(href)}$"))
    _fits(page)
    form = page.locator("#h-form").bounding_box()
    assert form["y"] < page.locator("#h-subject").bounding_box()["y"]     # the application before the record
    assert page.locator(".decision button[value=complete]").is_visible()
    shot(page, "mobile-task")
    page.goto(f"{server.url}/ui/flow-instances/{waiting['instance']}")
    _fits(page)
    context.close()
    assert errors == [], errors


@needs_chromium
def test_on_a_wide_screen_there_is_no_menu_button(browser, server):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = context.new_page()
    sign_in(page, server.url, "co_sh")
    assert page.locator("#navtoggle").is_hidden()
    assert page.locator("nav.mainnav a[href='/ui/inbox']").is_visible()
    context.close()


@needs_chromium
def test_without_javascript_the_phones_menu_stays_open(browser, server):
    context, page, errors = _phone(browser, java_script_enabled=False)
    sign_in(page, server.url, "co_sh")
    assert page.locator("#navtoggle").is_hidden()
    assert page.locator("nav.mainnav a[href='/ui/inbox']").is_visible()
    _fits(page)
    context.close()


@needs_chromium
def test_a_task_with_sub_limits_and_ratios_fits_a_phone(app, engine, browser, server, group):  # noqa: F811
    """Wide tables (the sub-limits, the concentration panel) scroll inside their own box; the page
    never scrolls sideways (found in the full suite: 469px on a 390px screen)."""
    from decimal import Decimal

    from runtime.records.service import Records
    members = Records(engine).query("company", {"group": group}, limit=2).items
    form = {**FORM, "sub_limits": [{"borrower": m["credit_code"], "amount": Decimal("100000000"), "guaranteed": False}
                                   for m in members]}
    view = app.state.flow_pages.service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=form)
    context, page, errors = _phone(browser)
    sign_in(page, server.url, "co_sh")
    page.goto(f"{server.url}/ui/tasks/{task_of(view, 'document_review')}")
    assert page.locator("#ratios table").is_visible() and page.locator(".read-table table").is_visible()
    _fits(page)
    context.close()
    assert errors == [], errors
