"""The 360° page in real headless Chromium (Debian's, /usr/bin/chromium): the vendored ECharts draws
the equity tree and the guarantee network under the page's strict CSP (no script error, no refusal);
a branch of the equity tree expands and collapses at a click on its node, and focusing on a member
opens the path down to it and says so; in zh and en."""
from __future__ import annotations

import pytest

from tests.web.browser import ARGS, CHROMIUM, LiveServer, needs_chromium, shot, sign_in
from tests.web.test_graph_scope import FIRMS, PERSONS, K

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(graph_app):
    with LiveServer(graph_app) as live:
        yield live


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield pg
    context.close()
    assert errors == [], errors                      # no script error, no CSP refusal


NODE = """([chartId, key]) => {
  const el = document.getElementById(chartId);
  const chart = echarts.getInstanceByDom(el);
  const data = chart.getModel().getSeriesByIndex(0).getData();
  let found = null;
  data.tree.root.eachNode(n => { const raw = n.getModel().option; if (raw.key === key && !found) found = n; });
  if (!found) return null;
  const g = data.getItemGraphicEl(found.dataIndex);
  const box = el.getBoundingClientRect();
  const at = g ? g.transformCoordToGlobal(0, 0) : null;
  return {expanded: found.isExpand, shown: !!(g && !g.invisible && g.parent),
          children: found.children.length, x: at ? box.left + at[0] : null, y: at ? box.top + at[1] : null};
}"""


def node(page, key):
    page.locator("#chart-equity").scroll_into_view_if_needed()
    return page.evaluate(NODE, ["chart-equity", key])


def test_the_equity_tree_expands_collapses_and_focuses_a_member(page, server):
    sign_in(page, server.url, "admin")
    page.goto(server.url + "/ui/views/group_360/G7001")
    page.wait_for_function("() => window.echarts && echarts.getInstanceByDom(document.getElementById('chart-equity'))")
    page.wait_for_timeout(600)                                  # the tree's entry animation
    assert page.locator("#h-equity").inner_text() == "股权结构"
    a1 = node(page, K["A1"])                                    # P1 → B1 → A1: level 2, drawn collapsed
    assert a1["children"] == 2 and a1["expanded"] is False
    assert node(page, K["A2"])["shown"] is False
    page.mouse.click(a1["x"], a1["y"])                          # click: expand
    page.wait_for_timeout(700)
    assert node(page, K["A1"])["expanded"] is True and node(page, K["A2"])["shown"] is True
    shot(page, "view_equity_expanded")
    a1 = node(page, K["A1"])
    page.mouse.click(a1["x"], a1["y"])                          # click again: collapse
    page.wait_for_timeout(700)
    assert node(page, K["A1"])["expanded"] is False and node(page, K["A2"])["shown"] is False
    page.select_option("#focus-equity", K["A2"])               # focus on a member: its path opens
    page.wait_for_timeout(700)
    status = page.locator("#status-equity").inner_text()
    assert FIRMS["A2"][3] in status and PERSONS["P1"][1] in status and FIRMS["A1"][3] in status
    assert node(page, K["A2"])["shown"] is True and node(page, K["A1"])["expanded"] is True
    shot(page, "view_equity_focused")
    page.click("#equity summary")                               # the table behind the picture
    assert page.locator("#equity details table").is_visible()
    assert FIRMS["A2"][3] in page.locator("#equity details table").inner_text()


def test_the_guarantee_network_and_english(page, server):
    sign_in(page, server.url, "risk_sh")
    page.goto(server.url + "/ui/views/group_360/G7001")
    page.wait_for_function("() => window.echarts && echarts.getInstanceByDom(document.getElementById('chart-guarantees'))")
    series = page.evaluate("""() => { const c = echarts.getInstanceByDom(document.getElementById('chart-guarantees'));
        const d = c.getModel().getSeriesByIndex(0).getData(); const names = [];
        for (let i = 0; i < d.count(); i++) names.push(d.getName(i)); return names; }""")
    assert FIRMS["A1"][3] in series and "其他机构客户" in series and FIRMS["B1"][3] not in series
    shot(page, "view_zh")
    page.click("form[action='/ui/lang'] button")
    page.wait_for_load_state()
    assert page.locator("#h-members").inner_text() == "Members"
    assert page.locator("#h-key_figures").inner_text() == "Key figures"
    page.wait_for_function("() => window.echarts && echarts.getInstanceByDom(document.getElementById('chart-equity'))")
    shot(page, "view_en")
    page.click("form[action='/ui/lang'] button")                 # back to zh for the other tests
