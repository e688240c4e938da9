"""Issue 16, part 3: the password policy (length, classes, not the name, no reuse of the last 5),
the TOTP second factor (enrol on one's own page, asked at sign-in, no replay), required for
administrators when the policy says so; the policy's settings; the migration's way back."""
from __future__ import annotations

import re
import time
from dataclasses import replace

import pyotp
import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient

from examples.demo_bank.users import DEMO_PASSWORD
from runtime.auth.policy import SecurityPolicy, load_policy
from runtime.auth.users import PasswordRejected, UserStore
from runtime.storage.db import ConfigError
from runtime.storage.migrate import _config, current_revision, head_revision, upgrade
from runtime.web.app import create_app

from .conftest import ADMIN_PASSWORD, PASSWORD, csrf, sign_in


@pytest.mark.parametrize("password, why", [
    ("Short-1", "too_short"), ("alllowercase-but-long", ""), ("lowercaseonly", "too_simple"),
    ("Wang-Password-2026", "has_name"), ("correct horse battery staple", ""), (DEMO_PASSWORD, ""),
    ("Branch-Office-2027", "")])
def test_the_password_rules(password, why):
    assert SecurityPolicy().password_problem(password, "wang")[0] == why


def test_no_reuse_of_the_last_five(bank):
    store = UserStore(bank)
    used = [PASSWORD] + [f"Branch-Office-{n}!" for n in range(5)]
    for new in used[1:]:
        store.set_password("wang", new)
    with pytest.raises(PasswordRejected) as caught:
        store.set_password("wang", used[-3])
    assert caught.value.why == "reused" and "最近 5 次" in caught.value.render("zh")
    store.set_password("wang", used[0])                 # the sixth one back may come again
    with bank.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM banyan_password_history WHERE user_name = 'wang'")).scalar() == 5
    with pytest.raises(PasswordRejected):
        store.set_password("wang", "wang-Wang-12345")


def test_the_policy_comes_from_banyan_toml_and_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("BANYAN_REQUIRE_TOTP_FOR_ADMINS", raising=False)
    monkeypatch.setenv("BANYAN_CONFIG", str(tmp_path / "absent.toml"))
    assert load_policy() == SecurityPolicy() and SecurityPolicy().require_totp_for_admins   # on by default
    config = tmp_path / "banyan.toml"
    config.write_text("[security]\nmax_failures = 3\nrequire_totp_for_admins = false\n", encoding="utf-8")
    monkeypatch.setenv("BANYAN_CONFIG", str(config))
    monkeypatch.setenv("BANYAN_LOCK_MINUTES", "30")
    policy = load_policy()
    assert (policy.max_failures, policy.lock_minutes, policy.require_totp_for_admins) == (3, 30, False)
    monkeypatch.setenv("BANYAN_REQUIRE_TOTP_FOR_ADMINS", "1")
    assert load_policy().require_totp_for_admins is True
    config.write_text("[security]\nmax_failure = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown keys max_failure"):
        load_policy()


def _enrol(client: TestClient) -> str:
    page = client.get("/ui/me")
    assert "<svg" in page.text and "otpauth://totp/Banyan:" in page.text
    secret = re.search(r'id="totp-key">([A-Z2-7 ]+)<', page.text).group(1).replace(" ", "")
    r = client.post("/ui/me", data={"csrf_token": csrf(client, "/ui/me"), "action": "totp_enrol", "code": _wrong_code(secret)})
    assert r.status_code == 422 and "验证码不正确" in r.text
    r = client.post("/ui/me", data={"csrf_token": csrf(client, "/ui/me"), "action": "totp_enrol",
                                    "code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200 and "双因素认证已启用" in r.text
    return secret


def _wrong_code(secret: str) -> str:
    """A code that is none of the three steps' (current, one before, one after)."""
    right = {pyotp.TOTP(secret).at(time.time() + d) for d in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in right)


def _next_step_code(secret: str) -> str:
    """A code of the next 30-second step (accepted: one step either side), never the one just used."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_totp_enrol_then_every_sign_in_asks_for_the_code(bank):
    app = create_app(bank)
    client = TestClient(app)
    assert sign_in(client, "wang", PASSWORD).status_code == 303
    secret = _enrol(client)
    fresh = TestClient(app)
    r = sign_in(fresh, "wang", PASSWORD)
    assert r.status_code == 200 and 'name="code"' in r.text and "动态验证码" in r.text
    assert fresh.get("/ui/me", follow_redirects=False).status_code == 303       # not signed in yet
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
    r = fresh.post("/ui/signin", data={"csrf_token": token, "step": "totp", "code": _wrong_code(secret),
                                       "next": "/ui/"})
    assert r.status_code == 401 and "验证码不正确或已过期" in r.text
    code = _next_step_code(secret)
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
    r = fresh.post("/ui/signin", data={"csrf_token": token, "step": "totp", "code": code, "next": "/ui/me"},
                   follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/me"
    assert fresh.get("/ui/me", follow_redirects=False).status_code == 200
    replay = TestClient(app)                                                    # the same code again: refused
    page = sign_in(replay, "wang", PASSWORD)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = replay.post("/ui/signin", data={"csrf_token": token, "step": "totp", "code": code, "next": "/ui/"})
    assert r.status_code == 401
    with bank.connect() as conn:
        actions = conn.execute(sa.text("SELECT action, after FROM banyan_audit WHERE action IN "
                                       "('totp_enrol', 'sign_in') ORDER BY seq")).all()
    assert [a for a, _ in actions] == ["sign_in", "totp_enrol", "sign_in"] and '"totp": true' in actions[-1][1]


def test_an_administrator_without_totp_is_sent_to_enrol(bank):
    app = create_app(bank)
    users = app.state.web.users
    users.policy = replace(users.policy, require_totp_for_admins=True)   # the default (the suite turns it off)
    admin = TestClient(app)
    r = sign_in(admin, "chief", ADMIN_PASSWORD)
    assert r.status_code == 303 and r.headers["location"] == "/ui/me#totp"
    r = admin.get("/ui/admin/users", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/me#totp"
    assert admin.get("/entities").status_code == 403
    page = admin.get("/ui/me")
    assert "系统管理员必须启用双因素认证" in page.text
    r = admin.post("/ui/me", data={"csrf_token": csrf(admin, "/ui/me"), "action": "token", "label": "x"})
    assert r.status_code == 403 and "bny_" not in r.text                        # no token around the factor
    _enrol(admin)
    assert admin.get("/ui/admin/users", follow_redirects=False).status_code == 200
    assert "停用双因素认证" not in admin.get("/ui/me").text                       # an admin keeps it
    off = create_app(bank)
    off.state.web.users.policy = replace(off.state.web.users.policy, require_totp_for_admins=False)
    other = TestClient(off)
    assert sign_in(other, "chief", ADMIN_PASSWORD).status_code == 200          # enrolled: the code is asked


def test_the_migration_goes_down_and_up(engine):
    upgrade(engine)
    store = UserStore(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO banyan_users (name, is_admin, active, session_epoch, created_at) "
                             "VALUES ('li', false, true, 0, CURRENT_TIMESTAMP)"))
    reader = store.create_token("li", "r", scope="read")
    writer = store.create_token("li", "w")
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011_deputies")
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        revoked = dict(conn.execute(sa.text("SELECT label, revoked FROM banyan_api_tokens")).all())
    assert "banyan_sessions" not in tables and "banyan_sign_in_failures" not in tables
    assert {k: bool(v) for k, v in revoked.items()} == {"r": True, "w": False}      # read-only is never widened
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert store.token_user(writer) is not None and store.token_user(reader) is None


def test_a_right_password_buys_no_more_code_guesses(bank):
    app = create_app(bank)
    client = TestClient(app)
    assert sign_in(client, "wang", PASSWORD).status_code == 303
    secret = _enrol(client)

    def code_attempt(c: TestClient, page) -> int:
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return c.post("/ui/signin", data={"csrf_token": token, "step": "totp", "code": _wrong_code(secret),
                                          "next": "/ui/"}).status_code
    guesser = TestClient(app)
    assert [code_attempt(guesser, sign_in(guesser, "wang", PASSWORD)) for _ in range(4)] == [401] * 4
    assert code_attempt(guesser, sign_in(guesser, "wang", PASSWORD)) == 429
    assert sign_in(TestClient(app), "wang", PASSWORD).status_code == 429
