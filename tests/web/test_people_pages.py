"""People come and go, through the pages: a person names a deputy on their own page (/ui/me), and
an administrator hands a departing person's clients and open tasks to another on that person's
admin page (preview, refused all-or-nothing, done) — in Chinese, never a traceback."""
from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from dsl.bank_time import bank_today
from runtime.auth.deputies import periods
from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.flows.directory import put_people
from runtime.flows.service import FlowService
from runtime.records.service import Records
from runtime.storage.db import make_engine, writing
from runtime.web.app import create_app
from tests.runtime.flow_bank import make_bank
from tests.runtime.test_flow_service import CREDIT, act

from .conftest import csrf_of

PASSWORD = "people-pages-2026"


@pytest.fixture
def bank(tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine = make_engine(f"sqlite:///{tmp_path / 'people.db'}")
    make_bank(engine)
    store = UserStore(engine)
    tree = OrgTree(Records(engine).live.bundle)
    store.save("admin", display_name="管理员", org_unit="head_office", password=PASSWORD, is_admin=True, tree=tree,
               new=True)
    store.save("head", display_name="王行长", org_unit="bj_branch", password=PASSWORD, tree=tree, new=True)
    with writing(engine) as conn:
        put_people(conn, [{"name": "vice", "display_name": "李副行长"}, {"name": "head2", "display_name": "赵行长"}])
    records = Records(engine)
    records.update("group", records.find("group", "G0001")["id"], {"relationship_manager": "head"}, actor="test")
    yield engine, create_app(engine), FlowService(engine)
    engine.dispose()


def sign_in(app, user: str) -> TestClient:
    client = TestClient(app)
    page = client.get("/ui/signin")
    r = client.post("/ui/signin", data={"csrf_token": csrf_of(page.text), "username": user, "password": PASSWORD,
                                        "next": "/ui/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def at_branch_head(flows):
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 2 * 10**8, **CREDIT})
    v = act(flows, v, "complete", "document_review", "officer", fields={"review_opinion": "complete"})
    return act(flows, v, "complete", "risk_assessment", "risk", fields={"risk_rating": "medium", "risk_opinion": "ok"})


def test_a_person_names_a_deputy_on_their_own_page(bank):
    engine, app, flows = bank
    head = sign_in(app, "head")
    page = head.get("/ui/me")
    assert page.status_code == 200 and "外出代理" in page.text and "未设置代理" in page.text
    today = bank_today()
    bad = head.post("/ui/me", data={"csrf_token": csrf_of(page.text), "action": "deputy", "deputy": "vice",
                                    "from": today.isoformat(), "until": (today - timedelta(days=1)).isoformat()})
    assert bad.status_code == 422 and "早于开始日期" in bad.text and "Traceback" not in bad.text
    assert periods(engine, "head", today=today) == []
    v = at_branch_head(flows)                           # open before the period: with open tasks, handed over
    r = head.post("/ui/me", data={"csrf_token": csrf_of(page.text), "action": "deputy", "deputy": "vice",
                                  "from": today.isoformat(), "until": (today + timedelta(days=3)).isoformat(),
                                  "reason": "出差", "open_tasks": "1"})
    assert r.status_code == 200 and "已设置代理：李副行长" in r.text and "移交现有待办 1 项" in r.text
    assert "李副行长 代理" in r.text and "出差" in r.text
    assert [t["assignee"] for t in flows.instance(v["id"])["tasks"]] == ["vice"]
    v = at_branch_head(flows)                           # new work goes to the deputy, on the head's behalf
    assert [(t["assignee"], t["owner"]) for t in v["tasks"]] == [("vice", "head")]
    [p] = periods(engine, "head", today=today)
    r = head.post("/ui/me", data={"csrf_token": csrf_of(r.text), "action": "deputy_cancel", "period": str(p.id)})
    assert "已取消代理" in r.text and periods(engine, "head", today=today) == []


def test_an_administrator_hands_over_a_departing_person_s_clients_and_tasks(bank):
    engine, app, flows = bank
    v = at_branch_head(flows)
    admin = sign_in(app, "admin")
    page = admin.get("/ui/admin/users/head")
    assert page.status_code == 200 and "客户移交" in page.text
    url = "/ui/admin/users/head"
    r = admin.post(url, data={"csrf_token": csrf_of(page.text), "to": "head2", "action": "hand_over_preview"})
    assert r.status_code == 200 and "将移交 1 条客户记录、1 项待办给 赵行长" in r.text
    assert Records(engine).find("group", "G0001")["relationship_manager"] == "head"
    r = admin.post(url, data={"csrf_token": csrf_of(page.text), "to": "rm", "action": "hand_over_do"})
    assert r.status_code == 422 and "未作任何更改" in r.text and "发起人不能审批自己的申请" in r.text
    assert Records(engine).find("group", "G0001")["relationship_manager"] == "head"
    r = admin.post(url, data={"csrf_token": csrf_of(page.text), "to": "head2", "reason": "调岗", "action": "hand_over_do"})
    assert r.status_code == 200 and "已移交 1 条客户记录、1 项待办给 赵行长" in r.text
    assert Records(engine).find("group", "G0001")["relationship_manager"] == "head2"
    assert [t["assignee"] for t in flows.instance(v["id"])["tasks"]] == ["head2"]
    head = sign_in(app, "head")
    assert head.post(url, data={"csrf_token": csrf_of(head.get("/ui/me").text), "to": "vice",
                                "action": "hand_over_do"}).status_code == 403
