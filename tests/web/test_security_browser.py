"""The sign-in page's lockout message in real Chromium, in zh and in en (issue 16, part 2), with
screenshots (signin-locked-zh.png, signin-locked-en.png). The locked name is one nobody has: the
page answers exactly as for a real person, and the demo people stay free for the other tests."""
from __future__ import annotations

from dataclasses import replace

import pytest

from runtime.web.app import create_app

from .browser import ARGS, CHROMIUM, LiveServer, needs_chromium, shot

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def server(engine):
    app = create_app(engine)
    users = app.state.web.users
    users.policy = replace(users.policy, max_failures_per_address=10_000)   # lock the name, not 127.0.0.1
    with LiveServer(app) as live:
        yield live


def _fail(page, base: str, name: str) -> None:
    page.fill("#username", name)
    page.fill("#password", "Not-The-Password-1")
    page.click("button[type=submit].primary")
    page.wait_for_load_state()


def test_the_lockout_message_in_zh_and_en(server):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1000, "height": 700}, locale="zh-CN")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url + "/ui/signin")
        for _ in range(4):
            _fail(page, server.url, "locked.in.browser")
            assert "用户名或密码不正确" in page.locator("#signin-error").inner_text()
        _fail(page, server.url, "locked.in.browser")
        said = page.locator("#signin-error").inner_text()
        assert "登录失败次数过多" in said and "15 分钟" in said, said
        assert page.locator("#username").get_attribute("aria-invalid") == "true"
        shot(page, "signin-locked-zh")
        page.click("button.linklike[lang=en]")                      # the language switch
        page.wait_for_load_state()
        _fail(page, server.url, "locked.in.browser")
        said = page.locator("#signin-error").inner_text()
        assert "Too many failed sign-ins" in said and "15 minutes" in said, said
        shot(page, "signin-locked-en")
        context.close()
        browser.close()
        assert errors == [], errors


def test_the_me_page_offers_totp_with_a_qr_code(server):
    from playwright.sync_api import sync_playwright

    from .browser import sign_in
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)   # a CSP refusal
        sign_in(page, server.url, "rm_sh_01")
        page.goto(server.url + "/ui/me#totp")
        assert page.locator("#totp .qr svg").count() == 1
        assert page.locator("#totp-uri").inner_text().startswith("otpauth://totp/Banyan:rm_sh_01?secret=")
        shot(page, "me-totp-enrol")
        context.close()
        browser.close()
        assert errors == [], errors
