"""The 360° view (issue 15, item 1) on the small two-branch bank of test_graph_scope.py: the page
`/ui/views/group_360/{code}` and `GET /views/group_360/{code}` say the same, cut to the reader's
org scope — a group they may not read is the 404 an unknown one gets on the page, the JSON and the
pictures' data; a serving branch (协办行) sees only the members it serves and no figure summed over
all members; a firm or person of another branch is never named. Values read as names, money in
万/亿, in zh and en."""
from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from runtime.auth.users import UserStore
from runtime.records.service import Records
from runtime.views.service import ViewService
from tests.web.conftest import signed_in
from tests.web.test_graph_scope import FIRMS, HIDDEN_TEXT, PERSONS, UNKNOWN_GROUP, K, P, _same_answer


def _page(client: TestClient, code: str, **params) -> tuple[int, str]:
    r = client.get(f"/ui/views/group_360/{code}", params=params)
    return r.status_code, r.text


def _pictures(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="view-pictures">(.*?)</script>', html,
                                re.S).group(1))


def _section(answer: dict, sid: str) -> dict:
    return next(s for s in answer["sections"] if s["id"] == sid)


@pytest.fixture(scope="module")
def rm_page(graph_app) -> TestClient:
    return signed_in(graph_app, "rm_sh_01")


def test_the_lead_branch_sees_the_whole_group_by_name(sh):
    r = sh.get("/views/group_360/G7001", headers={"Accept-Language": "zh-CN"})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["access"] == "lead_branch" and answer["title"] == "浦江甲集团" and answer["lang"] == "zh"
    fields = {f["name"]: f for f in _section(answer, "registration")["fields"]}
    assert fields["parent_company"]["text"] == FIRMS["A1"][3] and fields["parent_company"]["code"] == K["A1"]
    assert fields["lead_branch"]["text"] == "上海分行"
    members = _section(answer, "members")
    assert members["total"] == 2                                     # A1, A2 (B1 is Beijing's)
    assert {r["cells"][0]["text"] for r in members["rows"]} == {FIRMS["A1"][3], FIRMS["A2"][3]}
    assert members["columns"][0]["label"] == "企业名称"
    metrics = {m["label"]: m for m in _section(answer, "key_figures")["metrics"]}
    assert not any(m["withheld"] or m["failed"] for m in metrics.values())
    assert not any(s.get("failed") for s in answer["sections"])      # every expression found what it reads
    _hidden_never_named(r.text)


def test_a_serving_branch_sees_its_members_and_no_group_figures(sh):
    answer = sh.get("/views/group_360/G7002").json()
    assert answer["access"] == "serving_branch" and answer["lang"] == "en"
    members = _section(answer, "members")
    assert [r["key"] for r in members["rows"]] == [K["A3"]] and members["total"] == 1
    metrics = _section(answer, "key_figures")["metrics"]
    by_label = {m["label"]: m for m in metrics}
    assert by_label["Credit balance (in CNY)"]["withheld"] and by_label["Credit balance (in CNY)"]["value"] is None
    assert by_label["Product lines"]["withheld"]                     # counts over every member's facilities
    assert all(m["text"] == "Lead branch only" for m in metrics if m["withheld"])
    fields = {f["name"]: f for f in _section(answer, "registration")["fields"]}
    assert fields["member_count"]["value"] is None                   # blank as on the record page
    _hidden_never_named(json.dumps(answer, ensure_ascii=False))


def test_out_of_scope_is_the_404_of_an_unknown_group_on_json_and_page(sh, rm_page):
    _same_answer(sh.get("/views/group_360/G7003"), "G7003", sh.get(f"/views/group_360/{UNKNOWN_GROUP}"), UNKNOWN_GROUP)
    seen, unknown = rm_page.get("/ui/views/group_360/G7003"), rm_page.get(f"/ui/views/group_360/{UNKNOWN_GROUP}")
    assert seen.status_code == unknown.status_code == 404
    assert FIRMS["B3"][3] not in seen.text and "燕山能源集团" not in seen.text and "view-pictures" not in seen.text
    assert sh.get("/views/no_such_view/G7001").status_code == 404


def test_bank_wide_readers_see_everything(everyone):
    for client in everyone:
        answer = client.get("/views/group_360/G7003").json()
        assert answer["access"] == "bank_wide"
        assert [r["key"] for r in _section(answer, "members")["rows"]] == [K["B3"]]


@pytest.fixture(scope="module")
def risk_sh(graph_app, graph_bank) -> TestClient:
    """Shanghai's risk manager: the guarantee network is shown to risk and credit roles only."""
    token = UserStore(graph_bank).create_token("risk_sh", "views test")
    return TestClient(graph_app, headers={"Authorization": f"Bearer {token}"})


def test_the_equity_picture_is_cut_like_the_graph_api(sh, everyone, risk_sh):
    tree = _section(sh.get("/views/group_360/G7001").json(), "equity")["tree"]
    full = _section(everyone[0].get("/views/group_360/G7001").json(), "equity")["tree"]
    assert full["key"] == P["P1"] and full["name"] == PERSONS["P1"][1]            # from the ultimate controller
    b1 = full["children"][0]
    assert (b1["key"], b1["share"]) == (K["B1"], pytest.approx(0.6)) and b1["chain"]
    a1 = b1["children"][0]
    assert a1["key"] == K["A1"] and a1["share"] == pytest.approx(0.7) and a1["member"]
    assert a1["amount"] == pytest.approx(70_000_000)                              # 100m registered × 70%
    assert tree["key"] == P["P1"]                                 # a person seen through A1, in scope
    hidden = tree["children"][0]
    assert hidden["kind"] == "hidden" and hidden["key"] is None and hidden["name"] is None
    assert hidden["children"][0]["key"] == K["A1"]                # the firm in scope keeps its place
    assert hidden["others"] == 1                                  # B4: Beijing's, nothing shown beneath
    assert "guarantees" not in [x["id"] for x in sh.get("/views/group_360/G7001").json()["sections"]]  # roles
    answer = risk_sh.get("/views/group_360/G7001").json()
    _hidden_never_named(json.dumps(answer, ensure_ascii=False))
    net = _section(answer, "guarantees")["network"]
    shown = {n["key"] for n in net["nodes"] if n["key"]}
    assert shown <= {K["A1"], K["A2"], K["A3"], K["A4"]} and {K["A1"], K["A2"]} <= shown
    assert any(n["hidden"] for n in net["nodes"])
    assert all(x["amount"] is None for x in net["links"] if x["source"].startswith("h") or x["target"].startswith("h"))


def test_the_page_shows_every_section_with_names_and_its_pictures_data(rm_page):
    status, html = _page(rm_page, "G7001")
    assert status == 200
    for label in ("基础信息", "关键指标", "预警", "股权结构", "成员单位", "账户", "贷款", "授信额度", "评级", "涉诉"):
        assert f">{label}</h2>" in html, label
    assert FIRMS["A1"][3] in html and "上海分行" in html
    assert "/static/vendor/echarts/echarts.min.js" in html and "cdn" not in html.lower()
    data = _pictures(html)
    assert data["charts"]["equity"]["tree"]["name"] == PERSONS["P1"][1]
    assert data["words"]["equity_focus"] == "聚焦成员"
    _hidden_never_named(html)
    detail = rm_page.get(f"/ui/e/group/{_group_id('G7001', rm_page)}")
    assert 'href="/ui/views/group_360/G7001"' in detail.text               # linked from the record page


def _group_id(code: str, client: TestClient) -> int:
    r = client.get(f"/ui/e/group/key/{code}", follow_redirects=False)
    return int(r.headers["location"].rsplit("/", 1)[1])


def test_paging_a_table_and_english(graph_bank, rm_page):
    service = ViewService(graph_bank)
    first = service.page("group_360", "G7001", scope=None, lang="en")
    assert first["label"] == "Group 360° view" and _section(first, "members")["columns"][0]["label"] == "Company name"
    rm_page.post("/ui/lang", data={"to": "en", "next": "/ui/", "csrf_token": _csrf(rm_page)})
    try:
        status, html = _page(rm_page, "G7001", page="members:9")
        assert status == 200 and ">Members</h2>" in html and ">Key figures</h2>" in html
    finally:
        rm_page.post("/ui/lang", data={"to": "zh", "next": "/ui/", "csrf_token": _csrf(rm_page)})


def _csrf(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/me").text).group(1)


def test_limit_usage_over_its_threshold_is_flagged(graph_bank, sh):
    """A group at 106% of its unified limit: the usage card is flagged (warn_when: value >= 85%)."""
    records = Records(graph_bank)
    group = records.find("group", "G7001")
    base = {"group": "G7001", "product": "working_capital", "currency": "CNY", "used": 0, "start_date": "2025-01-01",
            "expiry_date": "2027-01-01", "approving_branch": "sh_branch", "status": "active"}
    unified = records.create("facility", {**base, "facility_no": "F790001", "level": "group_unified",
                                          "amount": 100_000_000}, actor="t")
    sub = records.create("facility", {**base, "facility_no": "F790002", "level": "member_sub", "borrower": K["A1"],
                                      "parent_facility": "F790001", "amount": 200_000_000}, actor="t")
    loan = records.create("loan", {"loan_no": "L7900001", "facility": "F790002", "borrower": K["A1"],
                                   "product": "working_capital", "currency": "CNY", "principal": 106_000_000,
                                   "balance": 106_000_000, "rate": "4%", "disbursed_on": "2025-02-01",
                                   "maturity_date": "2027-02-01", "overdue_days": 0, "classification": "normal",
                                   "branch": "sh_branch"}, actor="t")
    try:
        answer = sh.get("/views/group_360/G7001", headers={"Accept-Language": "zh"}).json()
        usage = next(m for m in _section(answer, "key_figures")["metrics"] if m["label"] == "额度使用率")
        assert usage["text"] == "106%" and usage["warn"] is True
        assert usage["value"] == "106"                               # the API's percent: its points
    finally:
        records.delete("loan", loan["id"], actor="t")
        records.delete("facility", sub["id"], actor="t")
        records.delete("facility", unified["id"], actor="t")
    assert group["id"] == records.find("group", "G7001")["id"]


def _hidden_never_named(text: str) -> None:
    leaked = [x for x in HIDDEN_TEXT if x in text]
    assert not leaked, f"names firms or persons of another branch: {leaked}"


# -- what is happening: the flows running about the group and its members, and their changes ---------
def _service_request(graph_bank, firm: str, actor: str) -> str:
    from runtime.flows.service import FlowService
    v = FlowService(graph_bank).start("cross_branch_service", actor=actor, subject=K[firm],
                                      form={"description": "跨行结算方案", "service_type": "financing",
                                            "needed_by": "2027-01-30"})
    return v["id"]


@pytest.fixture(scope="module")
def running(graph_bank) -> dict[str, str]:
    """A service request about A3 (Shanghai's, in Beijing's group G7002) and one about B2 (Beijing's);
    Beijing's RM coordinates as the lead branch's group client manager."""
    from runtime.auth.org import OrgTree
    records = Records(graph_bank)
    UserStore(graph_bank).grant_role("rm_bj_01", "group_client_manager", "bj_branch", OrgTree(records.live.bundle))
    return {"A3": _service_request(graph_bank, "A3", "rm_sh_01"), "B2": _service_request(graph_bank, "B2", "rm_bj_01")}


def test_the_flows_section_shows_what_runs_about_the_records_in_sight(sh, everyone, running):
    mine = _section(sh.get("/views/group_360/G7002", headers={"Accept-Language": "zh-CN"}).json(), "flows")
    assert [f["instance"] for f in mine["flows"]] == [running["A3"]]      # not B2's: another branch's member
    f = mine["flows"][0]
    assert f["flow_label"] == "跨机构客户服务请求响应" and f["subject"]["name"] == FIRMS["A3"][3]
    assert f["steps"] == ["主办行协调"] and f["link"] == f"/ui/flow-instances/{f['instance']}"
    assert f["initiator"] == "陈思远" and f["holders"] == ["段明静"]      # people by name, not user codes
    assert f["due_at"] and not f["overdue"]
    whole = _section(everyone[0].get("/views/group_360/G7002").json(), "flows")
    assert {f["instance"] for f in whole["flows"]} == set(running.values())
    assert _section(sh.get("/views/group_360/G7001").json(), "flows")["flows"] == []
    _hidden_never_named(json.dumps(mine, ensure_ascii=False))


def test_the_changes_section_is_the_members_history_in_words(graph_bank, sh, everyone, rm_page):
    records = Records(graph_bank)
    a2, b1 = records.find("company", K["A2"]), records.find("company", K["B1"])
    records.update("company", a2["id"], {"registered_capital": 456_780_000}, actor="rm_sh_01")
    records.update("company", b1["id"], {"address": "北京市朝阳区"}, actor="rm_bj_01")
    mine = _section(sh.get("/views/group_360/G7001", headers={"Accept-Language": "zh-CN"}).json(), "changes")
    newest = mine["changes"][0]
    assert newest["record"] == {"key": K["A2"], "name": FIRMS["A2"][3]} and newest["entity_label"] == "成员单位"
    assert any(c.startswith("注册资本：") and c.endswith("456,780,000.00") for c in newest["changes"]), newest
    assert newest["actor"] == "陈思远" and newest["action_text"] == "修改"
    assert all(c["record"]["key"] != K["B1"] for c in mine["changes"])    # Beijing's member: not in sight
    _hidden_never_named(json.dumps(mine, ensure_ascii=False))
    whole = _section(everyone[0].get("/views/group_360/G7001").json(), "changes")
    assert {c["record"]["key"] for c in whole["changes"][:2]} == {K["A2"], K["B1"]}
    status, html = _page(rm_page, "G7001")
    assert status == 200 and ">集团及成员变动</h2>" in html and ">在办流程</h2>" in html and FIRMS["A2"][3] in html


def test_a_reference_to_a_record_out_of_sight_is_never_named_in_a_history(sh, graph_bank):
    """G7002's parent company is B2, Beijing's firm: the group's change that set it is in the
    Shanghai serving branch's changes section, and B2 is not named there (nor in the record's history)."""
    changes = _section(sh.get("/views/group_360/G7002", headers={"Accept-Language": "zh-CN"}).json(), "changes")
    parent = [c for c in changes["changes"] if any(x.startswith("母公司") or "其他机构的记录" in x for x in c["changes"])]
    assert parent and all("其他机构的记录" in " ".join(c["changes"]) for c in parent), changes["changes"]
    _hidden_never_named(json.dumps(changes, ensure_ascii=False))
