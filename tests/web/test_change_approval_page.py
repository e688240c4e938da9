"""Change control in the web inbox (issue 17): the checker sees the plan and the diff of a change
to a protected environment on the task page, approves it there, and the approved bundle is
deployed; the maker has no task to approve."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dsl.compiler import compile_path
from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.change_control.service import ChangeControl
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.web.app import create_app

from .conftest import csrf_of

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "banyan-change-2026"


@pytest.fixture
def prod(tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine = make_engine(f"sqlite:///{tmp_path / 'prod.db'}")
    DeploymentRegistry(engine).deploy(release_of(compile_path(str(ROOT / "configs")).bundle), author="ops")
    tree = OrgTree(Records(engine).live.bundle)
    store = UserStore(engine)
    for name in ("maker_t", "checker_t"):
        store.save(name, display_name=name, org_unit="head_office", password=PASSWORD,
                   roles=[("change_approver", "head_office")], tree=tree, new=True)
    yield engine, create_app(engine)
    engine.dispose()


def hidden_of(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def signed_in(app, user: str) -> TestClient:
    client = TestClient(app)
    page = client.get("/ui/signin")
    r = client.post("/ui/signin", data={"csrf_token": csrf_of(page.text), "username": user, "password": PASSWORD,
                                        "next": "/ui/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def test_the_checker_sees_the_diff_in_the_inbox_and_approves_it(prod, tmp_path):
    engine, app = prod
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    role = tmp_path / "configs" / "roles" / "auditor.yaml"
    role.write_text(role.read_text(encoding="utf-8").replace("审计人员", "内部审计员"), encoding="utf-8")
    candidate = release_of(compile_path(str(tmp_path / "configs")).bundle)
    control = ChangeControl(engine)
    _plan, req = control.request(candidate, environment="prod", maker="maker_t", message="relabel")
    assert req["approvers"] == ["checker_t"]

    assert "配置变更审批" not in signed_in(app, "maker_t").get("/ui/inbox").text      # nothing for the maker
    checker = signed_in(app, "checker_t")
    assert "配置变更审批" in checker.get("/ui/inbox").text
    url = f"/ui/tasks/{req['instance']}/2"
    page = checker.get(url)
    assert page.status_code == 200
    text = page.text
    assert "changed  Role auditor" in text                         # the plan
    assert "+  label: {zh: 内部审计员, en: Auditor}" in text.replace("&#39;", "'")   # and the diff
    r = checker.post(url, data={"csrf_token": csrf_of(text), "_request": hidden_of(text, "_request"),
                                "_version": hidden_of(text, "_version"), "_action": "approve",
                                "comment": "核对无误"}, follow_redirects=False)
    assert r.status_code in (200, 303), r.text[:500]
    [done] = control.settle()
    assert (done["status"], done["maker"], done["checker"]) == ("deployed", "maker_t", "checker_t")
    assert DeploymentRegistry(engine).current().hash == candidate.hash

