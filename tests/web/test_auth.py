"""Sign-in, sessions, CSRF, API tokens, security headers, permissions."""
from __future__ import annotations

from fastapi.testclient import TestClient

from .conftest import csrf_of, signed_in


def test_everything_needs_sign_in(app):
    c = TestClient(app)
    r = c.get("/ui/e/company", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/signin?next=/ui/e/company"
    r = c.get("/records/company")
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    assert c.get("/health").status_code == 200


def test_security_headers(app):
    r = TestClient(app).get("/ui/signin")
    h = r.headers
    assert "script-src 'self'" in h["content-security-policy"] and "unsafe-inline" not in h["content-security-policy"]
    assert h["x-frame-options"] == "DENY" and h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "same-origin" and r.headers["content-type"] == "text/html; charset=utf-8"
    assert "<script>" not in r.text and " style=" not in r.text


def test_wrong_password_and_missing_csrf(app):
    c = TestClient(app)
    token = csrf_of(c.get("/ui/signin").text)
    r = c.post("/ui/signin", data={"csrf_token": token, "username": "rm_sh_01", "password": "wrong-password!"})
    assert r.status_code == 401 and "不正确" in r.text
    r = c.post("/ui/signin", data={"csrf_token": "forged", "username": "rm_sh_01", "password": "banyan-demo-2026"})
    assert r.status_code == 400
    assert c.get("/ui/", follow_redirects=False).status_code == 303


def test_session_cookie_flags(app):
    c = TestClient(app)
    token = csrf_of(c.get("/ui/signin").text)
    r = c.post("/ui/signin", data={"csrf_token": token, "username": "rm_sh_01", "password": "banyan-demo-2026",
                                   "next": "https://evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/ui/"                       # no open redirect
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_cookie_api_calls_need_the_csrf_header(rm):
    r = rm.post("/records/company", json={"name": "x"})
    assert r.status_code == 403 and r.json()["error"] == "csrf"


def test_api_tokens(app, rm):
    page = rm.get("/ui/me")
    r = rm.post("/ui/me", data={"csrf_token": csrf_of(page.text), "action": "token", "label": "nightly export"})
    token = r.text.split('<code class="token">')[1].split("<")[0]
    bare = TestClient(app)
    r = bare.get("/records/company?limit=1", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert bare.get("/records/company", headers={"Authorization": f"Bearer {token}x"}).status_code == 401
    token_id = token.split("_")[1]
    rm.post("/ui/me", data={"csrf_token": csrf_of(page.text), "action": "revoke", "token_id": token_id})
    assert bare.get("/records/company", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_permissions(app):
    committee = signed_in(app, "committee_1")
    assert committee.get("/ui/e/company/new").status_code == 403         # reads, does not write
    assert committee.get("/ui/e/company").status_code == 200
    assert committee.get("/ui/admin/users").status_code == 403
    assert signed_in(app, "rm_sh_01").get("/ui/deployments").status_code == 403
    assert signed_in(app, "ho_credit").get("/ui/deployments").status_code == 200


def test_language_switch(rm):
    page = rm.get("/ui/")
    assert "成员单位" in page.text
    rm.post("/ui/lang", data={"csrf_token": csrf_of(page.text), "to": "en", "next": "/ui/"})
    assert "Member company" in rm.get("/ui/").text


def test_admin_user_pages(admin):
    page = admin.get("/ui/admin/users/new")
    data = {"csrf_token": csrf_of(page.text), "name": "rm_sz_09", "display_name": "新同事", "org_unit": "sz_branch",
            "password": "short", "role.relationship_manager": "1", "unit.relationship_manager": "head_office",
            "active": "1"}
    r = admin.post("/ui/admin/users/new", data=data)
    assert r.status_code == 422 and "at least 12 characters" in r.text and "not in a head_office" in r.text
    r = admin.post("/ui/admin/users/new", data={**data, "password": "A-long-enough-1", "unit.relationship_manager": ""},
                   follow_redirects=False)
    assert r.status_code == 303
    assert "rm_sz_09" in admin.get("/ui/admin/users").text
    signed_in(admin.app, "rm_sz_09", "A-long-enough-1")


def test_the_api_keeps_the_org_scope(app, rm, admin):
    def token_of(client):
        page = client.get("/ui/me")
        r = client.post("/ui/me", data={"csrf_token": csrf_of(page.text), "action": "token", "label": "t"})
        return {"Authorization": "Bearer " + r.text.split('<code class="token">')[1].split("<")[0]}
    mine, everything = token_of(rm), token_of(admin)
    bare = TestClient(app)
    branch = bare.get("/records/company?limit=1", headers=mine).json()["total"]
    bank = bare.get("/records/company?limit=1", headers=everything).json()["total"]
    assert 0 < branch < bank
    beijing = bare.get("/records/company?branch=bj_branch&limit=1", headers=everything).json()["items"]
    if beijing:
        assert bare.get(f"/records/company/{beijing[0]['id']}", headers=mine).status_code == 404
        r = bare.patch(f"/records/company/{beijing[0]['id']}", json={"address": "x"}, headers=mine)
        assert r.status_code == 404
    r = bare.post("/records/company", json={"branch": "bj_branch", "name": "x"}, headers=mine)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["branch"]
    committee = signed_in(app, "committee_1")
    r = bare.post("/records/company", json={"name": "x"}, headers=token_of(committee))
    assert r.status_code == 403
