"""The workbench, a group's tier page, the portfolio dashboard and the 360° page in real headless
Chromium (Debian's), in zh and en, as rm_sh_01 meets them (issue 15's "done when"): the workbench
lists his groups with their tier, the tier link opens the explanation, the dashboard and the 360°
page of his largest group open, no script error, and an axe scan finds no serious violation."""
from __future__ import annotations

import pytest

from tests.web.browser import ARGS, CHROMIUM, LiveServer, needs_chromium, shot, sign_in
from tests.web.test_browser import SERIOUS

from .test_workbench import bench_app  # noqa: F401 - the demo bank, tiered

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(bench_app):  # noqa: F811
    with LiveServer(bench_app[2]) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def test_the_workbench_tier_page_dashboard_and_360_in_zh_and_en(browser, server, bench_app):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe
    _, records, _ = bench_app
    mine = sorted((g for g in records.iter_all("group") if g.get("relationship_manager") == "rm_sh_01"),
                  key=lambda g: -(g.get("member_count") or 0))
    assert mine
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    axe, problems = Axe(), []

    def scan(name: str) -> None:
        for v in axe.run(page).response["violations"]:
            if v["impact"] in SERIOUS:
                problems.append((name, v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]))

    sign_in(page, server.url, "rm_sh_01")
    for lang, heading in (("zh", "我的集团客户"), ("en", "My clients")):
        if lang == "en":
            page.click("form[action='/ui/lang'] button")
            page.wait_for_load_state()
        page.goto(server.url + "/ui/")
        assert heading in page.inner_text("#h-clients")
        scan(f"workbench-{lang}")
        shot(page, f"workbench-{lang}")
        page.click(f"a[href='/ui/tiering/group_value_matrix/{mine[0]['code']}']")
        page.wait_for_url(f"**/ui/tiering/group_value_matrix/{mine[0]['code']}")
        assert page.locator("details[open] summary strong").count() >= 1          # the row that hit, open
        scan(f"tier-{lang}")
        shot(page, f"tier-{lang}")
        page.goto(server.url + "/ui/dashboard")
        assert page.locator("#h-spread").count() == 1 and page.locator("meter.bar").count() > 0
        scan(f"dashboard-{lang}")
        shot(page, f"dashboard-{lang}")
        page.goto(server.url + f"/ui/views/group_360/{mine[0]['code']}")
        assert page.locator("#tier").count() == 1
        scan(f"view-{lang}")
    page.click("form[action='/ui/lang'] button")                 # back to zh
    context.close()
    assert errors == [], errors
    assert problems == []
