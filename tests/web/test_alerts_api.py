"""GET /alerts and /alerts/{id} cut to the asker's org scope (issue 13): the Shanghai relationship
manager sees the alerts on exactly the records the records door lets them read, another branch's
alert is the 404 an unknown one gets; the head office sees them all."""
from __future__ import annotations

import collections
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from examples.demo_bank.users import seed_demo_users
from runtime.alerts.service import AlertService
from runtime.alerts.tables import alerts, circle_members
from runtime.auth.org import OrgTree
from runtime.auth.scope import scope_for
from runtime.auth.users import UserStore
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.records.errors import NotFound
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade
from runtime.web.app import create_app

from .conftest import csrf_of, signed_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def alert_app(tmp_path_factory):
    path = tmp_path_factory.mktemp("alerts-web") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    seed_demo(records, scale=0.02, transactions=0, actor="test")
    seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
    AlertService(engine, records=records).scan()
    yield engine, create_app(engine)
    engine.dispose()


def test_the_list_and_one_alert_are_cut_to_the_askers_scope(alert_app):
    engine, app = alert_app
    with engine.connect() as conn:
        everything = list(conn.execute(sa.select(alerts.c.id, alerts.c.subject_entity, alerts.c.subject_key)
                                       .where(alerts.c.status == "open")))
    records = Records(engine)
    scope = scope_for(OrgTree(records.refresh().bundle), UserStore(engine).get("rm_sh_01"))
    company = records.refresh().table("company")
    with engine.connect() as conn:       # a guarantee circle's members (the circle is seen by their readers)
        members = collections.defaultdict(list)
        for anchor, key in conn.execute(sa.select(circle_members.c.anchor_id, company.c.credit_code)
                                        .join_from(circle_members, company, company.c.id == circle_members.c.member_id)):
            members[anchor].append(key)
    shanghai = set()
    for a in everything:                 # what the records door lets this person read
        keys = ([("company", k) for k in members[int(a.subject_key[2:])]] if a.subject_entity == "guarantee_circle"
                else [(a.subject_entity, a.subject_key)])
        for entity, key in keys:
            try:
                records.find(entity, key, scope=scope)
                shanghai.add(a.id)
            except NotFound:
                pass
    assert shanghai and len(everything) > len(shanghai)
    rm = signed_in(app, "rm_sh_01")
    seen = rm.get("/alerts?limit=5000")
    assert seen.status_code == 200, seen.text
    assert {a["id"] for a in seen.json()} == shanghai
    elsewhere = next(a.id for a in everything if a.id not in shanghai)
    hidden, unknown = rm.get(f"/alerts/{elsewhere}"), rm.get("/alerts/999999")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["error"] == unknown.json()["error"] == "not_found"
    mine = rm.get(f"/alerts/{min(shanghai)}").json()
    assert mine["timeline"][0]["kind"] == "open" and mine["message"]["zh"]
    head = signed_in(app, "admin").get("/alerts?limit=5000")
    assert {a["id"] for a in head.json()} == {a.id for a in everything}


def test_the_alert_centre_and_an_alerts_page_in_both_languages(alert_app):
    engine, app = alert_app
    rm = signed_in(app, "rm_sh_01")
    mine = rm.get("/alerts?limit=5000").json()
    page = rm.get("/ui/alerts")
    assert page.status_code == 200 and "预警中心" in page.text
    first = mine[0]
    assert f'href="/ui/alerts/{first["id"]}"' in page.text
    for code in ("loan_overdue", "group_limit_usage", "dishonest_debtor_listed", "litigation_exposure"):
        assert f">{code}<" not in page.text                      # rules by their names, not codes
    one = rm.get(f"/ui/alerts/{first['id']}")
    assert one.status_code == 200 and "预警依据" in one.text and "处理记录" in one.text and "触发" in one.text
    with engine.connect() as conn:
        others = [i for i in conn.exec_driver_sql("SELECT id FROM banyan_alerts").scalars()
                  if i not in {a["id"] for a in rm.get("/alerts?status=all&limit=5000").json()}]
    assert others and rm.get(f"/ui/alerts/{others[0]}").status_code == 404
    rm.post("/ui/lang", data={"csrf_token": csrf_of(page.text), "to": "en", "next": "/ui/alerts"})
    english = rm.get(f"/ui/alerts/{first['id']}")
    assert english.status_code == 200 and "Evidence" in english.text and "Timeline" in english.text
    assert "预警依据" not in english.text


def test_a_records_page_shows_its_open_alerts(alert_app):
    engine, app = alert_app
    rm = signed_in(app, "rm_sh_01")
    mine = [a for a in rm.get("/alerts?limit=5000").json() if a["subject"]["entity"] == "company"]
    assert mine
    a = mine[0]
    page = rm.get(f"/ui/e/company/key/{a['subject']['key']}", follow_redirects=True)
    assert page.status_code == 200
    assert "未解除的预警" in page.text and f'href="/ui/alerts/{a["id"]}"' in page.text


def test_people_act_on_an_alert_at_every_door(alert_app):
    engine, app = alert_app
    rm = signed_in(app, "rm_sh_01")
    mine = rm.get("/alerts?limit=5000").json()
    a = mine[-1]
    page = rm.get(f"/ui/alerts/{a['id']}")
    assert "签收" in page.text and "关闭预警" not in page.text          # an RM may not close an alert
    token = csrf_of(page.text)
    r = rm.post(f"/ui/alerts/{a['id']}", data={"csrf_token": token, "_action": "acknowledge"}, follow_redirects=False)
    assert r.status_code == 303
    r = rm.post(f"/ui/alerts/{a['id']}", data={"csrf_token": token, "_action": "comment", "text": ""})
    assert r.status_code == 422 and "请填写内容" in r.text and "Traceback" not in r.text
    rm.post(f"/ui/alerts/{a['id']}", data={"csrf_token": token, "_action": "comment", "text": "已约见财务总监"})
    shown = rm.get(f"/ui/alerts/{a['id']}").text
    assert "已签收" in shown and "已约见财务总监" in shown and "陈思远" in shown   # names, not user codes
    refused = rm.post(f"/ui/alerts/{a['id']}", data={"csrf_token": token, "_action": "close", "text": "已结清"})
    assert refused.status_code == 403
    api = rm.post(f"/alerts/{a['id']}/close", json={"text": "已结清"}, headers={"X-CSRF-Token": token})
    assert api.status_code == 403
    risk = signed_in(app, "risk_sh")
    rt = csrf_of(risk.get(f"/ui/alerts/{a['id']}").text)
    empty = risk.post(f"/alerts/{a['id']}/close", json={}, headers={"X-CSRF-Token": rt})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"][-1] == "text"
    done = risk.post(f"/alerts/{a['id']}/close", json={"text": "已结清，解除"}, headers={"X-CSRF-Token": rt})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "closed" and done.json()["close_reason"] == "已结清，解除"
    late = rm.post(f"/alerts/{a['id']}/comment", json={"text": "x"}, headers={"X-CSRF-Token": token})
    assert late.status_code == 409 and late.json()["error"] == "not_open"


def test_a_red_alerts_page_links_its_disposal_flow_and_a_risk_manager_assigns_it(alert_app):
    engine, app = alert_app
    risk = signed_in(app, "admin")
    mine = risk.get("/alerts?limit=5000&grade=red").json()
    disposed = [a for a in (risk.get(f"/alerts/{x['id']}").json() for x in mine)
                if any(d["kind"] == "start_flow" for d in a["actions"])]
    assert disposed, "a red alert of the demo bank started its disposal flow"
    started = [a for a in disposed if "flow_started" in {t["kind"] for t in a["timeline"]}]
    joined = [a for a in disposed if "flow_joined" in {t["kind"] for t in a["timeline"]}]
    assert started and len(started) + len(joined) == len(disposed)
    if joined:              # a second red alert on a firm joins the flow the first one started: disposal, once
        (j,) = [d for d in joined[0]["actions"] if d["kind"] == "start_flow"]
        firsts = {d["instance"] for s in started for d in s["actions"] if d["kind"] == "start_flow"}
        assert j["joined"] and j["instance"] in firsts
        assert "并入进行中的处置流程" in risk.get(f"/ui/alerts/{joined[0]['id']}").text
    a = started[0]
    (flow,) = [d for d in a["actions"] if d["kind"] == "start_flow"]
    assert flow["ok"] and flow["flow"] == "major_risk_disposal"
    page = risk.get(f"/ui/alerts/{a['id']}")
    assert page.status_code == 200 and "自动处置" in page.text and "重大风险事件处置" in page.text
    assert f'href="/ui/flow-instances/{flow["instance"]}"' in page.text
    assert "已启动处置流程" in page.text and "major_risk_disposal" not in page.text
    token = csrf_of(page.text)
    wrong = risk.post(f"/alerts/{a['id']}/assign", json={"to": "nobody_here"}, headers={"X-CSRF-Token": token})
    assert wrong.status_code == 422 and wrong.json()["error"] == "unknown_user"
    far = risk.post(f"/ui/alerts/{a['id']}", data={"csrf_token": token, "_action": "assign", "to": "rm_bj_01"})
    assert far.status_code == 422 and "看不到这个客户" in far.text              # a Beijing RM cannot see a non-Beijing client
    r = risk.post(f"/ui/alerts/{a['id']}", data={"csrf_token": token, "_action": "assign", "to": "cro"},
                  follow_redirects=False)
    assert r.status_code == 303
    shown = risk.get(f"/ui/alerts/{a['id']}").text
    assert "处理人：郑宏" in shown and "指派处理人" in shown
    assert risk.get(f"/alerts/{a['id']}").json()["assigned_to"] == "cro"
    rm = signed_in(app, "rm_sh_01")
    rt = csrf_of(rm.get("/ui/alerts").text)
    assert rm.post(f"/alerts/{a['id']}/assign", json={"to": "rm_sh_01"}, headers={"X-CSRF-Token": rt}).status_code \
        in (403, 404)                                               # an RM may not assign (or not even see it)
    with engine.connect() as conn:
        told = conn.exec_driver_sql("SELECT payload FROM banyan_outbox WHERE recipient = 'cro' "
                                    f"AND source = 'alert:{a['id']}' AND channel = 'in_app'").scalars().all()
    assert [p for p in told if '"by": "admin"' in p]                # the assignment, told in the app


def test_the_alert_centre_narrows_to_overdue_and_mine_and_sorts(alert_app):
    engine, app = alert_app
    risk = signed_in(app, "admin")
    by_grade = risk.get("/ui/alerts?order=grade")
    assert by_grade.status_code == 200 and "等级从高到低" in by_grade.text
    grades = [g for g in ("红色", "橙色", "黄色") if g in by_grade.text]
    body = by_grade.text[by_grade.text.index("<tbody>"):]
    firsts = [body.index(f'grade-{g}">') for g in ("red", "orange", "yellow") if f'grade-{g}">' in body]
    assert grades and firsts == sorted(firsts)                        # red rows before orange before yellow
    with engine.begin() as conn:
        one, other = conn.exec_driver_sql("SELECT id FROM banyan_alerts WHERE status = 'open' ORDER BY id LIMIT 2"
                                          ).scalars().all()
        conn.exec_driver_sql(f"UPDATE banyan_alerts SET due_at = '2020-01-01 00:00:00', assigned_to = 'admin' "
                             f"WHERE id = {one}")
        conn.exec_driver_sql(f"UPDATE banyan_alerts SET due_at = '2099-01-01 00:00:00' WHERE id = {other}")
    late = risk.get("/ui/alerts?overdue=1")
    assert late.status_code == 200 and f'href="/ui/alerts/{one}"' in late.text
    assert f'href="/ui/alerts/{other}"' not in late.text               # not due yet
    mine = risk.get("/ui/alerts?mine=1&order=due").text
    assert f'href="/ui/alerts/{one}"' in mine and f'href="/ui/alerts/{other}"' not in mine and "指派给我的" in mine
    assert risk.get("/ui/alerts?order=nonsense").status_code == 200                 # an unknown sort: the newest first


def test_the_inbox_points_to_alerts_assigned_and_overdue(alert_app):
    engine, app = alert_app
    cro = signed_in(app, "cro")
    with engine.begin() as conn:
        one = conn.exec_driver_sql("SELECT id FROM banyan_alerts WHERE status = 'open' ORDER BY id DESC LIMIT 1"
                                   ).scalar()
        conn.exec_driver_sql(f"UPDATE banyan_alerts SET assigned_to = 'cro', due_at = '2020-01-01 00:00:00' "
                             f"WHERE id = {one}")
    page = cro.get("/ui/inbox")
    assert page.status_code == 200 and re.search(r"指派给我 \d+ 条", page.text)
    assert 'href="/ui/alerts?mine=1&order=due"' in page.text
    assert "已超处置时限" in page.text


def test_an_opportunity_is_named_as_one_and_counted_apart_from_the_warnings(alert_app):
    engine, app = alert_app
    head = signed_in(app, "admin")
    chances = head.get("/alerts?limit=5000&rule=idle_funds_opportunity").json()
    assert chances, "the demo bank's core companies with idle funds raise the opportunity rule"
    page = head.get(f"/ui/alerts/{chances[0]['id']}").text
    assert '<span class="grade grade-opportunity">商机</span>' in page and "核心企业闲置资金" in page
    centre = head.get("/ui/alerts").text
    counts = dict(re.findall(r'class="grade-count grade-(\w+)[^"]*"[^>]*>[^<]*<strong>(\d+)</strong>', centre))
    yellow = [a for a in head.get("/alerts?limit=5000&grade=yellow").json() if a["rule"] != "idle_funds_opportunity"]
    assert int(counts["opportunity"]) == len(chances) and int(counts["yellow"]) == len(yellow)
    listed = head.get("/ui/alerts?grade=opportunity").text
    assert listed.count('class="grade grade-opportunity"') == len(chances) and 'class="grade grade-yellow"' not in listed
    assert 'class="grade grade-opportunity"' not in head.get("/ui/alerts?grade=yellow").text


@pytest.mark.parametrize("value, shown", [("0.15499999999976660000000000", "15.5%"),
                                          ("1.060014", "106.0014%"), ("0.12", "12%")])
def test_a_computed_ratio_is_shown_to_four_places_of_a_point(value, shown):
    from runtime.web.alerts import _value
    assert _value(value, "zh", "percent") == shown


def test_a_guarantee_circles_alert_names_only_the_members_the_reader_may_read(alert_app):
    engine, app = alert_app
    head = signed_in(app, "admin")
    circles = head.get("/alerts?limit=5000&rule=guarantee_circle_distress").json()
    assert circles, "the demo bank has a guarantee circle with a member in red"
    records = Records(engine)
    scope = scope_for(OrgTree(records.refresh().bundle), UserStore(engine).get("rm_sh_01"))
    rm = signed_in(app, "rm_sh_01")
    partial = hidden = 0
    for c in circles:
        whole = head.get(f"/alerts/{c['id']}").json()["circle"]
        assert whole["others"] == 0 and whole["members"]
        mine = []
        for m in whole["members"]:
            try:
                records.find("company", m["key"], scope=scope)
                mine.append(m)
            except NotFound:
                pass
        page = rm.get(f"/ui/alerts/{c['id']}")
        if not mine:                                   # no member in reach: as unknown as a made-up number
            assert page.status_code == 404 and rm.get(f"/alerts/{c['id']}").status_code == 404
            hidden += 1
            continue
        assert page.status_code == 200 and "圈内成员" in page.text and "担保圈" in page.text
        assert rm.get(f"/alerts/{c['id']}").json()["circle"] == {
            "members": mine, "others": len(whole["members"]) - len(mine)}
        for m in whole["members"]:
            assert (m["name"] in page.text) == (m in mine), m
        member_page = rm.get(f"/ui/e/company/key/{mine[0]['key']}").text    # on each member's page too
        assert f'href="/ui/alerts/{c["id"]}"' in member_page
        if len(mine) < len(whole["members"]):
            partial += 1
            assert f"另有 {len(whole['members']) - len(mine)} 家成员企业不在您的查看范围内" in page.text
    assert partial and hidden, "a circle Shanghai sees in part, and one it cannot see"
    listed = rm.get("/ui/alerts?rule=guarantee_circle_distress").text
    assert listed.count("担保圈") >= partial


def test_an_alerts_page_and_the_api_say_why_its_grade_holds(alert_app):
    engine, app = alert_app
    rm = signed_in(app, "rm_sh_01")
    mine = [a for a in rm.get("/alerts?limit=5000").json() if a["subject"]["entity"] == "company"]
    a = mine[0]
    why = rm.get(f"/alerts/{a['id']}/explain", headers={"Accept-Language": "zh"})
    assert why.status_code == 200, why.text
    body = why.json()
    assert body["rule"] == a["rule"] and body["subject"]["key"] == a["subject"]["key"]
    assert body["grade"] is not None
    held = next(g for g in body["grades"] if g["grade"] == body["grade"])
    assert held["holds"] is True and held["verdict"] == "成立" and held["steps"][0]["depth"] == 0
    assert all("Traceback" not in s["value"] for g in body["grades"] for s in g["steps"])
    page = rm.get(f"/ui/alerts/{a['id']}")
    assert "判定依据" in page.text and held["steps"][0]["text"].split(" ")[0] in page.text
    with engine.connect() as conn:          # out of scope: the unknown alert's 404, trace included
        everything = set(conn.exec_driver_sql("SELECT id FROM banyan_alerts").scalars())
    hidden = min(everything - {x["id"] for x in rm.get("/alerts?status=all&limit=5000").json()})
    assert rm.get(f"/alerts/{hidden}/explain").status_code == 404
    rolled = next((x for x in signed_in(app, "admin").get("/alerts?limit=5000").json()
                   if x["subject"]["entity"] == "group" and x["rule"] in ("loan_overdue", "debt_ratio_high")), None)
    if rolled is not None:                  # a roll-up has no condition of its own: said so, not a 500
        said = signed_in(app, "admin").get(f"/alerts/{rolled['id']}/explain")
        assert said.status_code == 404 and "member" in said.json()["message"]


def test_a_rules_page_shows_its_grades_tests_and_latest_backtest(alert_app):
    from runtime.alerts.reports import keep
    engine, app = alert_app
    rm = signed_in(app, "rm_sh_01")
    page = rm.get("/ui/alert-rules/loan_overdue")
    assert page.status_code == 200, page.text
    assert "max_overdue_days &gt; 90" in page.text and "财务指标恶化" in page.text
    assert "尚无记录" in page.text and "尚无回测" in page.text
    keep(engine, "coverage", {"loan_overdue": {"cases_run": 3, "grades": {"red": ["逾期 95 天为红色"], "orange": [],
                                                                              "yellow": ["逾期 1 天为黄色"]}}}, "tester")
    keep(engine, "backtest", {"loan_overdue": {"from": "2025-01", "to": "2025-03", "months": 3, "candidate": "abc123",
                                               "total": 2, "by_month": {"2025-02": {"opens red": 2}}, "notes": []}},
         "tester")
    page = rm.get("/ui/alert-rules/loan_overdue")
    assert "逾期 95 天为红色" in page.text and "没有用例覆盖" in page.text          # the orange grade has no case
    assert "2025-02" in page.text and "新增 红色 2" in page.text and "abc123" in page.text
    assert rm.get("/ui/alert-rules/nope").status_code == 404
    mine = [a for a in rm.get("/alerts?limit=5000").json() if a["rule"] == "loan_overdue"]
    if mine:                                # the alert page links its rule's page
        assert 'href="/ui/alert-rules/loan_overdue"' in rm.get(f"/ui/alerts/{mine[0]['id']}").text
