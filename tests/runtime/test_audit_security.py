"""Security events audited (issue 16, part 5): creating people, granting and revoking roles and
the admin flag, role permissions, passwords, enabling and disabling, API tokens, sign-ins and
failed sign-ins — each an entry (who, what, about whom, from where when known) in the same
transaction as the change; a failed sign-in never records the password."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from runtime.audit import log as audit
from runtime.auth.org import OrgTree
from runtime.auth.users import UserError, UserStore
from runtime.deploy.live import load_live
from runtime.storage.migrate import upgrade
from runtime.web.app import create_app

from .test_users_cli import BUNDLE, run

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def own_key_place(tmp_path, monkeypatch):
    for name in ("BANYAN_AUDIT_KEY", "BANYAN_AUDIT_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    monkeypatch.setenv("BANYAN_ACTOR", "ops")


@pytest.fixture
def store(engine, db_url, tmp_path):
    root = tmp_path / "bundle"
    root.mkdir()
    for name, text in BUNDLE:
        (root / name).write_text(text, encoding="utf-8")
    assert run(db_url, "deploy", str(root)).exit_code == 0
    return UserStore(engine)


def events(engine, after: int = 0) -> list[tuple[str, str, dict, dict | None]]:
    """(actor, action, details, before) of the security entries after `after`."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT actor, action, entity, before, after FROM banyan_audit "
                                    "WHERE seq > :s AND entity = 'user' ORDER BY seq"), {"s": after}).all()
    return [(r.actor, r.action, json.loads(r.after), json.loads(r.before) if r.before else None) for r in rows]


def head(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT seq FROM banyan_audit_head")).scalar() or 0


def test_creating_and_changing_people_is_audited(engine, store):
    tree = OrgTree(load_live(engine).bundle)
    store.save("wang.li", display_name="王丽", org_unit="sh_branch", password=PASSWORD, is_admin=True,
               roles=[("relationship_manager", "sh_branch")], tree=tree, new=True, by="chief", address="10.0.0.7")
    assert events(engine) == [
        ("chief", "user_create", {"user": "wang.li", "address": "10.0.0.7", "display_name": "王丽",
                                  "org_unit": "sh_branch", "email": None}, None),
        ("chief", "admin_grant", {"user": "wang.li", "address": "10.0.0.7"}, None),
        ("chief", "role_grant", {"user": "wang.li", "address": "10.0.0.7", "role": "relationship_manager",
                                 "unit": "sh_branch"}, None)]
    mark = head(engine)
    store.save("wang.li", display_name="王丽", org_unit="bj_branch", is_admin=False, active=True,
               roles=[("credit_committee", "")], tree=tree, by="chief")
    got = [(a, act, d.get("role"), b) for a, act, d, b in events(engine, mark)]
    assert got == [("chief", "user_update", None, {"display_name": "王丽", "org_unit": "sh_branch", "email": None}),
                   ("chief", "admin_revoke", None, None),
                   ("chief", "role_grant", "credit_committee", None),
                   ("chief", "role_revoke", "relationship_manager", None)]
    mark = head(engine)
    store.set_active("wang.li", False)                                   # the CLI's operator: BANYAN_ACTOR
    store.set_active("wang.li", True, by="chief")
    store.set_password("wang.li", PASSWORD + "!", by="wang.li", address="10.0.0.8")
    assert store.grant_role("wang.li", "relationship_manager", "bj_branch", tree, by="chief")
    assert not store.grant_role("wang.li", "relationship_manager", "bj_branch", tree, by="chief")   # no change
    assert store.revoke_role("wang.li", "relationship_manager", "bj_branch", by="chief")
    store.set_grants("relationship_manager", {"records.write"}, by="chief")
    assert [(a, act, d["user"]) for a, act, d, _ in events(engine, mark)] == [
        ("ops", "user_disable", "wang.li"), ("chief", "user_enable", "wang.li"),
        ("wang.li", "password_set", "wang.li"), ("chief", "role_grant", "wang.li"),
        ("chief", "role_revoke", "wang.li"), ("chief", "grants_set", None)]
    assert PASSWORD not in json.dumps(events(engine))
    with engine.connect() as conn:
        assert audit.verify(conn).ok


def test_tokens_are_audited_by_id_never_by_secret(engine, store):
    store.save("zhao.min", display_name="赵敏", org_unit="sh_branch", password=PASSWORD, new=True, by="chief")
    mark = head(engine)
    token = store.create_token("zhao.min", "reports", by="zhao.min", address="10.1.1.1")
    token_id = token.split("_")[1]
    assert store.revoke_token("zhao.min", token_id, by="chief")
    assert not store.revoke_token("zhao.min", "0" * 16, by="chief")      # nothing revoked, nothing recorded
    made = events(engine, mark)
    assert made[0][2].pop("expires") > "2026"                             # the token's expiry and scope too
    assert made == [
        ("zhao.min", "token_create", {"user": "zhao.min", "address": "10.1.1.1", "token": token_id,
                                      "label": "reports", "scope": "write"}, None),
        ("chief", "token_revoke", {"user": "zhao.min", "token": token_id}, None)]
    assert token.split("_", 2)[2] not in json.dumps(events(engine))


def test_the_entry_is_in_the_same_transaction_as_the_change(engine, store, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the audit log cannot be written")
    working = audit.append
    monkeypatch.setattr(audit, "append", broken)
    with pytest.raises(RuntimeError):
        store.save("li.na", display_name="李娜", org_unit="sh_branch", password=PASSWORD, new=True, by="chief")
    assert store.get("li.na") is None                                     # no change without its entry
    monkeypatch.setattr(audit, "append", working)
    store.save("li.na", display_name="李娜", org_unit="sh_branch", password=PASSWORD, new=True, by="chief")
    mark = head(engine)
    with pytest.raises(UserError):                                        # refused: no entry either
        store.save("li.na", display_name="李娜", org_unit="sh_branch", password=PASSWORD, new=True, by="chief")
    assert head(engine) == mark


def _csrf(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/signin").text).group(1)


def test_sign_ins_and_failures_are_audited_without_the_password(engine, store):
    upgrade(engine)
    store.save("ops.admin", display_name="Ops", org_unit="head_office", password=PASSWORD, is_admin=True, new=True)
    mark = head(engine)
    client = TestClient(create_app(engine))
    wrong = "not the password 12345"
    r = client.post("/ui/signin", data={"csrf_token": _csrf(client), "username": "ops.admin", "password": wrong})
    assert r.status_code == 401
    typed_in_name = "Secret-Passw0rd-typed-in-the-name-field"
    r = client.post("/ui/signin", data={"csrf_token": _csrf(client), "username": typed_in_name, "password": "x"})
    assert r.status_code == 401
    r = client.post("/ui/signin", data={"csrf_token": _csrf(client), "username": "ops.admin", "password": PASSWORD,
                                        "next": "/ui/"}, follow_redirects=False)
    assert r.status_code == 303
    assert events(engine, mark) == [
        ("anonymous", "sign_in_failed", {"user": "ops.admin", "address": "testclient", "known": True}, None),
        ("anonymous", "sign_in_failed", {"user": None, "address": "testclient", "known": False}, None),
        ("ops.admin", "sign_in", {"user": "ops.admin", "address": "testclient"}, None)]
    with engine.connect() as conn:
        text = json.dumps(conn.execute(sa.text("SELECT * FROM banyan_audit")).all(), default=str)
    assert wrong not in text and PASSWORD not in text and typed_in_name not in text
