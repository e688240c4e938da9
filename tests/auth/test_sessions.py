"""Issue 16, part 1: sessions end on the server (sign-out, a password change, disabling, "sign out
everywhere": a copied cookie stops working at once, in every worker), no cache window after a
change, API tokens with an expiry and a scope that a password change revokes; part 3's idle
timeout and absolute lifetime and the Secure cookie outside localhost."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from fastapi.testclient import TestClient

from runtime.auth.users import UserStore
from runtime.web.app import create_app

from .conftest import ADMIN_PASSWORD, PASSWORD, csrf, sign_in

PROBE = "/ui/me"


def signed(app, user: str = "wang", password: str = PASSWORD) -> TestClient:
    client = TestClient(app)
    assert sign_in(client, user, password).status_code == 303
    assert client.get(PROBE, follow_redirects=False).status_code == 200
    return client


def copy_of(client: TestClient, app) -> TestClient:
    """Another browser holding a copy of `client`'s cookie."""
    other = TestClient(app)
    other.cookies.set("banyan_session", client.cookies.get("banyan_session"))
    return other


def no_totp_for_admins(app):
    from dataclasses import replace
    users = app.state.web.users
    users.policy = replace(users.policy, require_totp_for_admins=False)
    return app


def test_sign_out_ends_the_session_and_a_copied_cookie(bank):
    app = create_app(bank)
    client = signed(app)
    thief = copy_of(client, app)
    assert thief.get(PROBE, follow_redirects=False).status_code == 200
    client.post("/ui/signout", data={"csrf_token": csrf(client, PROBE)})
    r = thief.get(PROBE, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/signin?next=/ui/me&ended=1")
    assert thief.get("/records/x").status_code == 401                   # the API door too


def test_a_password_change_ends_every_other_session_at_once_in_every_worker(bank):
    app, other_worker = create_app(bank), create_app(bank)              # two processes' caches
    mine = signed(app)
    elsewhere = copy_of(signed(other_worker), other_worker)
    assert elsewhere.get(PROBE, follow_redirects=False).status_code == 200      # now cached in that worker
    new = "Another-Secret-77"
    r = mine.post(PROBE, data={"csrf_token": csrf(mine, PROBE), "action": "password", "current": PASSWORD,
                               "new": new, "confirm": new})
    assert r.status_code == 200
    assert elsewhere.get(PROBE, follow_redirects=False).status_code == 303     # no 5-second window
    assert mine.get(PROBE, follow_redirects=False).status_code == 200          # this browser goes on
    fresh = TestClient(other_worker)
    assert sign_in(fresh, "wang", new).status_code == 303
    assert fresh.get(PROBE, follow_redirects=False).status_code == 200         # and is not bounced


def test_the_change_form_asks_the_old_password_and_a_confirmation(bank):
    app = create_app(bank)
    client = signed(app)
    token = csrf(client, PROBE)
    r = client.post(PROBE, data={"csrf_token": token, "action": "password", "current": PASSWORD,
                                 "new": "Another-Secret-77", "confirm": "Another-Secret-78"})
    assert r.status_code == 422 and "两次输入的新密码不一致" in r.text
    r = client.post(PROBE, data={"csrf_token": token, "action": "password", "current": "Wrong-Password-1",
                                 "new": "Another-Secret-77", "confirm": "Another-Secret-77"})
    assert r.status_code == 422 and "当前密码不正确" in r.text
    r = client.post(PROBE, data={"csrf_token": token, "action": "password", "current": PASSWORD,
                                 "new": "weakpassword", "confirm": "weakpassword"})
    assert r.status_code == 422 and "至少 3 类" in r.text
    assert UserStore(bank).authenticate("wang", PASSWORD) is not None


def test_disabling_and_sign_out_everywhere_end_sessions_audited_under_the_admin(bank):
    app = no_totp_for_admins(create_app(bank))
    victim = signed(app)
    admin = TestClient(app, client=("10.2.3.4", 5000))
    assert sign_in(admin, "chief", ADMIN_PASSWORD).status_code == 303
    page = admin.get("/ui/admin/users/wang")
    assert "当前有效会话 1 个" in page.text
    r = admin.post("/ui/admin/users/wang", data={"csrf_token": csrf(admin, "/ui/admin/users/wang"),
                                                 "action": "sign_out_everywhere"})
    assert r.status_code == 200 and "已结束 王强 的 1 个会话" in r.text
    assert victim.get(PROBE, follow_redirects=False).status_code == 303
    again = signed(app)
    UserStore(bank).set_active("wang", False)
    assert again.get(PROBE, follow_redirects=False).status_code == 303
    with bank.connect() as conn:
        row = conn.execute(sa.text("SELECT actor, after FROM banyan_audit WHERE action = 'sessions_end'")).one()
    assert row.actor == "chief" and json.loads(row.after) == {"user": "wang", "address": "10.2.3.4",
                                                              "sessions_ended": 1}


def test_admin_page_changes_are_audited_under_the_signed_in_admin(bank):
    app = no_totp_for_admins(create_app(bank))
    admin = TestClient(app, client=("10.2.3.4", 5000))
    assert sign_in(admin, "chief", ADMIN_PASSWORD).status_code == 303
    token = csrf(admin, "/ui/admin/users/wang")
    r = admin.post("/ui/admin/users/wang", data={"csrf_token": token, "display_name": "王强强", "org_unit": "sh_branch",
                                                 "active": "1", "role.relationship_manager": "1"},
                   follow_redirects=False)
    assert r.status_code == 303
    admin.post("/ui/admin/roles", data={"csrf_token": token, "relationship_manager:records.write": "1"})
    with bank.connect() as conn:
        rows = conn.execute(sa.text("SELECT actor, action, after FROM banyan_audit WHERE action IN "
                                    "('user_update', 'grants_set') ORDER BY seq")).all()
    assert [(r.actor, r.action, json.loads(r.after)["address"]) for r in rows] == [
        ("chief", "user_update", "10.2.3.4"), ("chief", "grants_set", "10.2.3.4")]


def test_idle_timeout_and_absolute_lifetime(bank):
    app = create_app(bank)
    idle, old = signed(app), signed(app)
    with bank.begin() as conn:
        rows = conn.execute(sa.text("SELECT id FROM banyan_sessions ORDER BY created_at")).scalars().all()
        now = datetime.now(timezone.utc)
        conn.execute(sa.text("UPDATE banyan_sessions SET last_seen_at = :t WHERE id = :i"),
                     {"t": now - timedelta(minutes=31), "i": rows[0]})
        conn.execute(sa.text("UPDATE banyan_sessions SET created_at = :t WHERE id = :i"),
                     {"t": now - timedelta(hours=8, minutes=1), "i": rows[1]})
    assert idle.get(PROBE, follow_redirects=False).status_code == 303
    assert old.get(PROBE, follow_redirects=False).status_code == 303
    with bank.connect() as conn:
        assert sorted(conn.execute(sa.text("SELECT ended_why FROM banyan_sessions")).scalars()) == ["expired", "idle"]
    assert "会话已结束" in TestClient(app).get("/ui/signin?ended=1").text


def test_a_session_in_use_is_marked_used_every_half_minute(bank):
    """The gate reads a session without writing (on SQLite, on the event loop: runtime/web/
    middleware.py); one last seen more than TOUCH_SECONDS ago takes the path that writes, and
    its `last_seen_at` moves — else its idle time would run out while the person works."""
    from runtime.auth.sessions import TOUCH_SECONDS
    app = create_app(bank)
    client = signed(app)

    def seen() -> datetime:
        with bank.connect() as conn:
            found = conn.execute(sa.text("SELECT last_seen_at FROM banyan_sessions")).scalar_one()
        found = found if isinstance(found, datetime) else datetime.fromisoformat(found)
        return found.replace(tzinfo=timezone.utc) if found.tzinfo is None else found

    before = seen()
    assert client.get(PROBE, follow_redirects=False).status_code == 200
    assert seen() == before                                     # just seen: nothing written
    long_ago = datetime.now(timezone.utc) - timedelta(seconds=TOUCH_SECONDS + 5)
    with bank.begin() as conn:
        conn.execute(sa.text("UPDATE banyan_sessions SET last_seen_at = :t"), {"t": long_ago})
    stale = seen()
    assert client.get(PROBE, follow_redirects=False).status_code == 200
    assert seen() > stale


def test_tokens_expire_have_a_scope_and_die_with_a_password_change(bank):
    app = create_app(bank)
    store = UserStore(bank)
    reader = {"Authorization": "Bearer " + store.create_token("wang", "reports", scope="read", days=1)}
    writer = {"Authorization": "Bearer " + store.create_token("wang", "sync")}
    api = TestClient(app)
    assert api.get("/deployments", headers=reader).status_code in (200, 403)     # through the door
    r = api.post("/records/nothing", json={}, headers=reader)
    assert r.status_code == 403 and r.json()["error"] == "read_only_token"
    r = api.post("/records/nothing", json={}, headers=writer)                  # past the door: the permission's turn
    assert r.status_code != 401 and r.json()["error"] != "read_only_token"
    with bank.begin() as conn:
        conn.execute(sa.text("UPDATE banyan_api_tokens SET expires_at = :t WHERE label = 'reports'"),
                     {"t": datetime.now(timezone.utc) - timedelta(seconds=1)})
    assert api.get("/entities", headers=reader).status_code == 401
    assert api.get("/entities", headers=writer).status_code == 200
    tokens = {t["label"]: t for t in store.tokens("wang")}
    assert tokens["sync"]["expires_at"] is not None and tokens["sync"]["scope"] == "write"
    store.set_password("wang", "Another-Secret-77")
    assert api.get("/entities", headers=writer).status_code == 401
    assert all(t["revoked"] for t in store.tokens("wang"))


def test_the_me_page_makes_a_read_only_token_with_its_days(bank):
    app = create_app(bank)
    client = signed(app)
    r = client.post(PROBE, data={"csrf_token": csrf(client, PROBE), "action": "token", "label": "bi", "scope": "read",
                                 "days": "7"})
    token = r.text.split('<code class="token">')[1].split("<")[0]
    assert "只读" in r.text
    r = TestClient(app).delete("/records/x/1", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403 and r.json()["error"] == "read_only_token"
    r = client.post(PROBE, data={"csrf_token": csrf(client, PROBE), "action": "token", "label": "x", "days": "9999"})
    assert r.status_code == 422 and "有效天数应为 1 到 365 的整数" in r.text


def test_the_cookie_is_secure_outside_localhost(bank, monkeypatch):
    app = create_app(bank)
    for base, secure in (("https://bank.example", True), ("http://localhost:8000", False),
                         ("http://127.0.0.1", False)):
        client = TestClient(app, base_url=base)
        r = sign_in(client, "wang", PASSWORD)
        cookie = r.headers["set-cookie"].lower()
        assert ("; secure" in cookie) == secure, (base, cookie)
    monkeypatch.setenv("BANYAN_SECURE_COOKIES", "0")                 # plain http on a trusted network, said so
    r = sign_in(TestClient(app, base_url="http://bank.example"), "wang", PASSWORD)
    assert "; secure" not in r.headers["set-cookie"].lower()


def test_the_cli_makes_scoped_expiring_tokens_and_signs_people_out(bank, db_url):
    from tests.runtime.test_users_cli import run
    app = create_app(bank)
    r = run(db_url, "users", "token", "wang", "--scope", "read", "--days", "3")
    assert r.exit_code == 0
    token = r.output.strip()
    (made,) = UserStore(bank).tokens("wang")
    assert made["scope"] == "read"
    assert 2 < (made["expires_at"].replace(tzinfo=None) - made["created_at"].replace(tzinfo=None)).days + 1 <= 3
    api = TestClient(app)
    assert api.post("/records/x", json={}, headers={"Authorization": f"Bearer {token}"}).status_code == 403
    r = run(db_url, "users", "token", "wang", "--days", "400")
    assert r.exit_code == 2 and "days: a whole number from 1 to 365" in r.output
    client = signed(app)
    r = run(db_url, "users", "sign-out", "wang")
    assert r.exit_code == 0 and "1 session(s) of wang ended" in r.output
    assert client.get(PROBE, follow_redirects=False).status_code == 303
