"""The home page's workbench and a group's tier page (issue 15): rm_sh_01 sees the groups he is
named on with their tier, the open alerts in his scope by grade, and how his groups spread over
the tiers; a tier link opens the explanation (the row that hit, why the others did not, the
service package with role names); another branch's group is the 404 an unknown one is."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from examples.demo_bank.users import seed_demo_users
from runtime.alerts.service import AlertService
from runtime.auth.org import OrgTree
from runtime.auth.scope import scope_for
from runtime.auth.users import UserStore
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade
from runtime.tiering.service import TieringService
from runtime.web.app import create_app

from .conftest import signed_in

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench_app(tmp_path_factory):
    path = tmp_path_factory.mktemp("workbench") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    seed_demo(records, scale=0.03, transactions=0, actor="test")
    seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
    AlertService(engine, records=records).scan()
    TieringService(engine, records=records).run()
    yield engine, records, create_app(engine)
    engine.dispose()


def test_the_workbench_lists_my_groups_with_their_tier_and_my_alerts(bench_app):
    engine, records, app = bench_app
    mine = [g for g in records.iter_all("group") if g.get("relationship_manager") == "rm_sh_01"]
    assert mine, "the demo names rm_sh_01 on no group"
    page = signed_in(app, "rm_sh_01").get("/ui/")
    assert page.status_code == 200
    html = page.text
    assert "我的集团客户" in html and "未处理预警" in html and "分层分布" in html
    tiers = {t.name: t.label.zh for t in TieringService(engine).tierings(records.refresh())[0].tiers}
    for g in mine:
        assert f"/ui/tiering/group_value_matrix/{g['code']}" in html
        assert tiers[g["tier"]] in html
    scope = scope_for(OrgTree(records.refresh().bundle), UserStore(engine).get("rm_sh_01"))
    red = AlertService(engine, records=records).count(grade="red", scope=scope)
    assert re.search(rf'grade-red">红色</span> <strong>{red}</strong>', html)


def test_a_tier_page_explains_and_is_cut_to_scope(bench_app):
    engine, records, app = bench_app
    rm = signed_in(app, "rm_sh_01")
    scope = scope_for(OrgTree(records.refresh().bundle), UserStore(engine).get("rm_sh_01"))
    readable = records.keys_within("group", scope)
    groups = list(records.iter_all("group"))
    inside = next(g for g in groups if readable is None or g["code"] in readable)
    outside = next((g for g in groups if readable is not None and g["code"] not in readable), None)
    page = rm.get(f"/ui/tiering/group_value_matrix/{inside['code']}")
    assert page.status_code == 200
    html = page.text
    assert "决策表（命中策略：first）" in html and "→ </strong>" in html and "服务方案" in html
    assert "risk_manager" not in html.split("服务方案", 1)[1].split("</dl>", 1)[0]      # roles by name
    if outside is not None:
        hidden = rm.get(f"/ui/tiering/group_value_matrix/{outside['code']}")
        unknown = rm.get("/ui/tiering/group_value_matrix/G9999")
        assert hidden.status_code == unknown.status_code == 404
    assert rm.get("/ui/tiering/no_such_tiering/G0001").status_code == 404


def test_an_override_shows_as_one_with_its_reason_and_the_matrix_answer(bench_app):
    engine, records, app = bench_app
    group = next(iter(records.iter_all("group")))
    records.update("group", group["id"], {"tier_override": "stable_cooperation", "tier_override_reason": "债务重组期间维持",
                                          "tier_override_until": "2099-12-31"}, actor="test")
    page = signed_in(app, "admin").get(f"/ui/tiering/group_value_matrix/{group['code']}")
    assert page.status_code == 200
    assert "经审批人工调整（有效期至 2099-12-31）" in page.text and "人工调整：债务重组期间维持" in page.text
    assert ">稳定合作型<" in page.text


def test_the_360_page_shows_the_tier_with_its_scores_and_links_the_explanation(bench_app):
    engine, records, app = bench_app
    group = next(g for g in records.iter_all("group") if not g.get("tier_override"))
    page = signed_in(app, "admin").get(f"/ui/views/group_360/{group['code']}")
    assert page.status_code == 200
    html = page.text.split('id="tier"', 1)[1].split("</section>", 1)[0]
    assert f'href="/ui/tiering/group_value_matrix/{group["code"]}"' in html
    assert "集团贡献度" in html and "40%" in html and "加权总分" in html


def test_the_dashboard_counts_within_scope_with_a_unit_switch(bench_app):
    engine, records, app = bench_app
    rm, head = signed_in(app, "rm_sh_01"), signed_in(app, "admin")
    mine, everything = rm.get("/ui/dashboard"), head.get("/ui/dashboard?unit=wan")
    assert mine.status_code == everything.status_code == 200
    assert "按主营行业" in mine.text and "按主办行" in mine.text and "近十二个月新增预警" in mine.text
    scope = scope_for(OrgTree(records.refresh().bundle), UserStore(engine).get("rm_sh_01"))
    readable = records.keys_within("group", scope)
    groups = list(records.iter_all("group"))

    def tier_counts(html: str) -> int:
        part = html.split('id="h-spread"', 1)[1].split("</section>", 1)[0]
        return sum(int(n) for n in re.findall(r'</meter>(\d+)</td>', part))
    assert tier_counts(mine.text) == len([g for g in groups if readable is None or g["code"] in readable])
    assert tier_counts(everything.text) == len(groups)
    assert "（万元）" in everything.text and "（亿元）" in mine.text
    odd = rm.get("/ui/dashboard?unit=usd")
    assert odd.status_code == 200 and "（亿元）" in odd.text
