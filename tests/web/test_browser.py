"""The pages in real headless Chromium: sign in, the generated company form (live and server
messages, conditional required), hidden values cleared, sub-tables, the JS interpreter agreeing
with the Python expressions, the plainer no-JavaScript path, and an axe scan of the main pages."""
from __future__ import annotations

import pytest

from dsl.expr.uscc import check_character

from .browser import ARGS, CHROMIUM, LiveServer, needs_chromium, shot, sign_in

pytestmark = needs_chromium

FIRST17 = "91310104MA1K4LBX2"
GOOD = FIRST17 + check_character(FIRST17)
BAD = FIRST17 + ("A" if GOOD[-1] != "A" else "B")


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


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and not msg.text.startswith(
        "Failed to load resource: the server responded with a status of 4") else None)   # a 422 page is expected
    yield pg
    context.close()
    assert errors == [], errors                      # no script error, no CSP refusal


def error_of(page, field: str) -> str:
    return page.locator(f"#f-{field}-error").inner_text().strip()


def test_create_a_company_with_live_and_server_messages(page, server):
    sign_in(page, server.url, "rm_sh_01")
    shot(page, "home")
    page.goto(server.url + "/ui/e/company/new")
    page.fill("#f-credit_code", BAD)
    page.fill("#f-name", "徐汇浏览器测试有限公司")                       # moving on: the code was touched
    assert error_of(page, "credit_code") == "统一社会信用代码校验位不正确"     # is_uscc, live in the browser
    assert page.get_attribute("#f-credit_code", "aria-invalid") == "true"
    assert page.locator("[data-bf-field=ticker] [data-bf-req]").is_hidden()
    page.check("#f-listed")
    assert page.locator("[data-bf-field=ticker] [data-bf-req]").is_visible()  # required when listed
    assert page.get_attribute("#f-ticker", "aria-required") == "true"
    page.focus("#f-ticker")
    page.focus("#f-name")
    assert error_of(page, "ticker") == ""                                   # only tabbed through: no message yet
    page.fill("#f-ticker", "6")
    page.fill("#f-ticker", "")
    page.focus("#f-name")
    assert error_of(page, "ticker") == "此项必填"
    page.fill("#f-registered_capital", "1.5亿")
    assert page.locator("[data-bf-field=registered_capital] [data-bf-hint]").inner_text() == "1.5亿"
    page.select_option("#f-legal_form", "limited_liability")
    page.select_option("#f-industry", "information_technology")
    page.fill("#f-established_on", "2016-05-20")
    page.fill("#f-region", "310104")
    page.select_option("#f-branch", "sh_branch")
    page.click("button[value=save]")                                          # the server checks again
    page.wait_for_selector(".bf-summary:not([hidden])")
    assert error_of(page, "credit_code") == "统一社会信用代码校验位不正确"
    assert error_of(page, "ticker") == "此项必填"
    assert page.evaluate("document.activeElement.classList.contains('bf-summary')")
    shot(page, "company-form-errors")
    page.fill("#f-credit_code", GOOD)
    page.fill("#f-ticker", "688123.SH")
    page.focus("#f-name")
    assert error_of(page, "credit_code") == "" and error_of(page, "ticker") == ""
    page.click("button[value=save]")
    page.wait_for_url("**/ui/e/company/*")
    assert "徐汇浏览器测试有限公司" in page.locator("h1").inner_text()
    assert page.locator(".flash").inner_text() == "已创建。"
    shot(page, "company-detail")
    page.goto(server.url + "/ui/e/company?order=-registered_capital")
    shot(page, "company-list")


def test_hidden_values_cleared_and_kept(page, server):
    sign_in(page, server.url, "rm_sh_01")
    page.goto(server.url + "/ui/forms/credit_application")
    assert page.locator("[role=tab]").count() == 2
    collateral = page.locator("[data-bf-field=collateral_description]")
    assert collateral.is_hidden()
    page.check("input[name=guarantee_mode][value=mortgage]") if page.locator("input[name=guarantee_mode]").count() \
        else page.select_option("#f-guarantee_mode", "mortgage")
    assert collateral.is_visible()
    assert page.get_attribute("#f-collateral_description", "aria-required") == "true"
    page.fill("#f-collateral_description", "浦东厂房")
    page.select_option("#f-guarantee_mode", "credit")
    assert collateral.is_hidden()
    page.select_option("#f-guarantee_mode", "pledge")
    assert page.input_value("#f-collateral_description") == ""              # on_hidden: clear
    page.check("#f-urgent")
    page.fill("#f-urgent_reason", "年底前需放款")
    page.uncheck("#f-urgent")
    assert page.locator("[data-bf-field=urgent_reason]").is_hidden()
    page.check("#f-urgent")
    assert page.input_value("#f-urgent_reason") == "年底前需放款"            # on_hidden: keep
    # a sub-table row: the guarantor cell shows only for a guaranteed row, and is then required
    page.click("[data-bf-add-row=sub_limits]")
    rows = page.locator("[data-bf-table=sub_limits] tbody tr")
    assert rows.count() == 2
    guarantor = page.locator("[data-bf-field='sub_limits.1.guarantor'] .bf-cell")
    assert guarantor.is_hidden()
    page.check("input[name='sub_limits.1.guaranteed'][type=checkbox]")
    assert guarantor.is_visible()
    page.fill("#f-amount", "5000万")
    page.fill("input[name='sub_limits.0.amount']", "4000万")
    page.fill("input[name='sub_limits.1.amount']", "1000.01万")   # 5000.01万 > 5000万, exactly
    page.focus("#f-term_months")
    assert "分项额度合计不能超过申请额度" in page.locator("#f-sub_limits-error").inner_text() + error_of(page, "amount")
    shot(page, "credit-application-form")


def test_the_browser_interpreter_agrees_with_python(page, server, engine):
    """Every translatable rule of the shipped forms, on several inputs, in Chromium and in Python
    (exact decimals both sides; tests/forms/test_differential.py does the same under Node at scale)."""
    from decimal import Decimal

    from forms import FormSpec
    from forms.client import scope_of, translate
    from runtime.deploy.live import load_live
    from tests.forms.test_differential import from_json, python_result, same, to_json
    bundle = load_live(engine).bundle
    spec = FormSpec.of_form(bundle.get("Form", "credit_application"))
    scope = scope_of(spec.fields)
    D = Decimal
    contexts = [
        {"credit_type": "new", "amount": D("5E+8"), "guarantee_mode": "mortgage", "urgent": True,
         "approved_amount": None,
         "sub_limits": [{"borrower": "A", "amount": D("1E+8"), "guaranteed": True, "guarantor": "B"}]},
        {"credit_type": "renewal", "amount": D("10000000.005"), "guarantee_mode": None, "urgent": False,
         "approved_amount": D("2E+7"),
         "sub_limits": [{"borrower": "A", "amount": D("6000000.00"), "guaranteed": False},
                        {"borrower": "B", "amount": D("4000000.005")}]},
        {"credit_type": None, "amount": None, "guarantee_mode": "credit", "urgent": None, "sub_limits": []},
    ]
    exprs = [f.visible_when for f in spec.fields] + [f.field.required_when for f in spec.fields] + \
            [v.rule for v in spec.validations]
    exprs = [e for e in exprs if e is not None]
    sign_in(page, server.url, "rm_sh_01")
    page.goto(server.url + "/ui/forms/credit_application")
    checked = 0
    for expr in exprs:
        tree = translate(expr, scope)
        assert tree is not None, expr.text
        for ctx in contexts:
            expected = python_result(expr, ctx)       # a failed rule ("error") counts as null on the server
            got = from_json(page.evaluate("([t, env]) => window.BanyanForms.evaluateJSON(t, env)", [tree, to_json(ctx)]))
            assert same(got, expected), (expr.text, ctx, got, expected)
            checked += 1
    assert checked >= 20
    from tests.forms.test_differential import DEFINITION, SCOPE, compile_text
    for text, ctx, want in DEFINITION:                 # the language's arithmetic, in the real browser too
        tree = translate(compile_text(text)[0], SCOPE)
        got = from_json(page.evaluate("([t, env]) => window.BanyanForms.evaluateJSON(t, env)",
                                      [tree, to_json({"rows": [], **ctx})]))
        assert same(got, want), (text, got, want)
    assert page.evaluate(f"window.BanyanForms.isUscc('{GOOD}')") is True
    assert page.evaluate(f"window.BanyanForms.isUscc('{BAD}')") is False


def test_pages_work_without_javascript(browser, server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, server.url, "rm_sh_01")
    page.goto(server.url + "/ui/e/company/new")
    page.fill("#f-credit_code", BAD)
    page.check("#f-listed")
    page.click("button[value=save]")
    assert page.locator("#f-credit_code-error").inner_text() == "统一社会信用代码校验位不正确"
    assert page.locator("#f-ticker-error").inner_text() == "此项必填"
    page.goto(server.url + "/ui/forms/credit_application")
    assert page.locator("[data-bf-tablist]").is_hidden()                      # tabs read as stacked sections
    assert page.locator("button[value=refresh]").is_visible()
    context.close()


SERIOUS = {"serious", "critical"}
PAGES = [("signin", None, "/ui/signin"), ("home", "rm_sh_01", "/ui/"), ("list", "rm_sh_01", "/ui/e/company"),
         ("new", "rm_sh_01", "/ui/e/company/new"), ("import", "rm_sh_01", "/ui/e/company/import"),
         ("form", "rm_sh_01", "/ui/forms/credit_application"), ("me", "rm_sh_01", "/ui/me"),
         ("users", "admin", "/ui/admin/users"), ("roles", "admin", "/ui/admin/roles"),
         ("deployments", "admin", "/ui/deployments"), ("group", "admin", "/ui/e/group")]


def test_accessibility_of_the_main_pages(page, server):
    from axe_playwright_python.sync_playwright import Axe
    axe = Axe()
    who = None
    problems = []
    for name, user, path in PAGES:
        if user != who and user is not None:
            page.context.clear_cookies()
            sign_in(page, server.url, user)
            who = user
        page.goto(server.url + path)
        if name == "new":
            page.click("button[value=save]")                 # scan the form with its messages too
            page.wait_for_selector(".bf-summary:not([hidden])")
        result = axe.run(page)
        for v in result.response["violations"]:
            if v["impact"] in SERIOUS:
                problems.append((name, v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]))
        if name in ("signin", "users", "import", "roles"):
            shot(page, f"page-{name}")
    detail = page.locator("table.grid tbody a").first
    detail.click()
    shot(page, "group-detail")
    assert problems == []
