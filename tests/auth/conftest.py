"""Sign-in security tests: SQLite, and PostgreSQL when it answers (the runtime tests' databases),
a small deployed org tree, a web app of its own per test (its policy adjustable)."""
from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.deploy.live import load_live
from tests.runtime.conftest import db_url, engine  # noqa: F401 - the fixtures, shared
from tests.runtime.test_users_cli import BUNDLE, run

PASSWORD = "Branch-Office-2026"
ADMIN_PASSWORD = "Head-Office-2026!"


@pytest.fixture(autouse=True)
def _places(tmp_path, monkeypatch):
    for name in ("BANYAN_AUDIT_KEY", "BANYAN_AUDIT_KEY_FILE", "BANYAN_SECURE_COOKIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    monkeypatch.setenv("BANYAN_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("BANYAN_ACTOR", "ops")


@pytest.fixture
def bank(engine, db_url, tmp_path):  # noqa: F811
    """The engine with an org tree deployed, a branch person `wang` and an administrator `chief`."""
    root = tmp_path / "bundle"
    root.mkdir()
    for name, text in BUNDLE:
        (root / name).write_text(text, encoding="utf-8")
    assert run(db_url, "deploy", str(root)).exit_code == 0
    store = UserStore(engine)
    tree = OrgTree(load_live(engine).bundle)
    store.save("wang", display_name="王强", org_unit="sh_branch", password=PASSWORD, new=True, tree=tree,
               roles=[("relationship_manager", "sh_branch")])
    store.save("chief", display_name="总管", org_unit="head_office", password=ADMIN_PASSWORD, is_admin=True,
               new=True, tree=tree)
    return engine


def csrf(client: TestClient, path: str = "/ui/signin") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)


def sign_in(client: TestClient, user: str, password: str, next: str = "/ui/"):
    return client.post("/ui/signin", data={"csrf_token": csrf(client), "username": user, "password": password,
                                           "next": next}, follow_redirects=False)
