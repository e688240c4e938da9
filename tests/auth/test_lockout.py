"""Issue 16, part 2: brute force. Failed sign-ins counted per name and per address in the
database, a lockout with the same answer for a name nobody has, audited (failures, lockouts,
unlocks), lifted by an administrator (page and CLI)."""
from __future__ import annotations

import json
import time
from dataclasses import replace

import sqlalchemy as sa
from fastapi.testclient import TestClient

from runtime.auth.users import UserStore
from runtime.web.app import create_app
from tests.runtime.test_users_cli import run

from .conftest import ADMIN_PASSWORD, PASSWORD, csrf, sign_in


def app_with(bank, **policy):
    app = create_app(bank)
    users = app.state.web.users
    users.policy = replace(users.policy, require_totp_for_admins=False, **policy)
    return app


def security_events(engine, *actions: str) -> list[tuple[str, str, dict]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT actor, action, after FROM banyan_audit WHERE entity = 'user' ORDER BY seq"))
        return [(r.actor, r.action, json.loads(r.after)) for r in rows if r.action in actions]


def test_five_failures_lock_the_name_and_the_right_password_then_fails(bank):
    app = app_with(bank)
    client = TestClient(app)
    for _ in range(4):
        r = sign_in(client, "wang", "Wrong-Password-1")
        assert r.status_code == 401 and "用户名或密码不正确" in r.text
    r = sign_in(client, "wang", "Wrong-Password-1")
    assert r.status_code == 429 and "登录失败次数过多" in r.text and "15 分钟" in r.text
    r = sign_in(client, "wang", PASSWORD)                                 # the right one: still locked
    assert r.status_code == 429 and "登录失败次数过多" in r.text
    assert UserStore(bank).locked_until().keys() == {"wang"}
    other = create_app(bank)                                             # another worker sees the same lock
    assert sign_in(TestClient(other), "wang", PASSWORD).status_code == 429
    lockouts = security_events(bank, "sign_in_lockout")
    assert [(a, d["user"], d["scope"], d["failures"]) for a, d in [(x[0], x[2]) for x in lockouts]] == [
        ("anonymous", "wang", "user", 5)]
    failed = security_events(bank, "sign_in_failed")
    assert len(failed) == 7 and failed[-1][2] == {"user": "wang", "address": "testclient", "known": True,
                                                   "locked": True}


def test_a_name_nobody_has_gets_the_same_answers(bank):
    app = app_with(bank)
    client = TestClient(app)
    def answer(r) -> tuple[int, str]:
        return r.status_code, r.text.split('id="signin-error">')[1].split("<")[0]
    unknown = [answer(sign_in(client, "nobody.here", "Wrong-Password-1")) for _ in range(6)]
    known = TestClient(app, client=("10.0.0.9", 1))
    assert [answer(sign_in(known, "wang", "Wrong-Password-1")) for _ in range(6)] == unknown
    assert [code for code, _ in unknown] == [401] * 4 + [429] * 2
    # and about as long: a locked answer checks a password too
    started = time.perf_counter()
    sign_in(client, "nobody.here", "Wrong-Password-1")
    locked = time.perf_counter() - started
    started = time.perf_counter()
    sign_in(TestClient(app, client=("10.0.0.10", 1)), "chief", "Wrong-Password-1")
    failing = time.perf_counter() - started
    assert locked > failing / 4
    lockouts = security_events(bank, "sign_in_lockout")
    assert [d["user"] for _, _, d in lockouts] == [None, "wang"]         # a typed name nobody has is not kept


def test_an_address_is_locked_across_names(bank):
    app = app_with(bank, max_failures_per_address=3)
    robot = TestClient(app, client=("203.0.113.5", 1))
    codes = [sign_in(robot, name, "Wrong-Password-1").status_code for name in ("a.one", "b.two", "c.three")]
    assert codes == [401, 401, 429]
    assert sign_in(robot, "wang", PASSWORD).status_code == 429
    assert sign_in(TestClient(app, client=("198.51.100.7", 1)), "wang", PASSWORD).status_code == 303
    (_, _, lock), = security_events(bank, "sign_in_lockout")
    assert lock["scope"] == "address" and lock["address"] == "203.0.113.5"


def test_the_lock_ends_by_itself_and_a_success_clears_the_count(bank):
    app = app_with(bank)
    client = TestClient(app)
    for _ in range(4):
        sign_in(client, "wang", "Wrong-Password-1")
    assert sign_in(client, "wang", PASSWORD).status_code == 303            # the count starts afresh
    for _ in range(4):
        assert sign_in(TestClient(app), "wang", "Wrong-Password-1").status_code == 401
    for _ in range(1):
        assert sign_in(TestClient(app), "wang", "Wrong-Password-1").status_code == 429
    with bank.begin() as conn:
        conn.execute(sa.text("UPDATE banyan_sign_in_failures SET locked_until = :t"),
                     {"t": "2000-01-01 00:00:00"})
    assert sign_in(TestClient(app), "wang", PASSWORD).status_code == 303


def test_an_administrator_unlocks_on_the_page_and_the_cli(bank, db_url):
    app = app_with(bank)
    for _ in range(5):
        sign_in(TestClient(app), "wang", "Wrong-Password-1")
    admin = TestClient(app, client=("10.2.3.4", 1))
    assert sign_in(admin, "chief", ADMIN_PASSWORD).status_code == 303
    assert "已锁定" in admin.get("/ui/admin/users").text
    page = admin.get("/ui/admin/users/wang")
    assert "登录已锁定至" in page.text
    r = admin.post("/ui/admin/users/wang", data={"csrf_token": csrf(admin, "/ui/admin/users/wang"), "action": "unlock"})
    assert r.status_code == 200 and "已解锁 王强" in r.text and "未锁定" in r.text
    assert sign_in(TestClient(app), "wang", PASSWORD).status_code == 303
    for _ in range(5):
        sign_in(TestClient(app), "wang", "Wrong-Password-1")
    assert "locked" in run(db_url, "users", "list").output
    r = run(db_url, "users", "unlock", "wang")
    assert r.exit_code == 0 and "wang is unlocked" in r.output
    assert "was not locked" in run(db_url, "users", "unlock", "wang").output
    assert sign_in(TestClient(app), "wang", PASSWORD).status_code == 303
    unlocks = security_events(bank, "sign_in_unlock")            # the page's admin, then the CLI's operator
    assert [(d["user"], d.get("address")) for _, _, d in unlocks] == [("wang", "10.2.3.4"), ("wang", None)]
    assert unlocks[0][0] == "chief" and unlocks[1][0] != "chief"


def test_the_lockout_words_in_english(bank):
    app = app_with(bank)
    client = TestClient(app)
    client.post("/ui/lang", data={"csrf_token": csrf(client), "to": "en", "next": "/ui/signin"})
    for _ in range(5):
        r = sign_in(client, "wang", "Wrong-Password-1")
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text and "15 minutes" in r.text
