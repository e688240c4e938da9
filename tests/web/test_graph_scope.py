"""The relationship graph's endpoints answer only for what the asker may read (issue 9).

A small bank of its own (deploy configs/, then a handful of records written through the
records service), so every firm's branch is known: Shanghai (sh_branch, the RM `rm_sh_01`)
and Beijing (bj_branch). Shanghai may read A1–A4; B1–B4 are Beijing's.

* groups: G7001 led by Shanghai (A1, A2 and Beijing's B1), G7002 led by Beijing with
  Shanghai's A3 (Shanghai co-serves it), G7003 Beijing's alone (B3);
* guarantee circles: A1 → B1 → A2 → B2 → A1 with B1 → A1 (mutual with A1) spanning both
  branches; B3 ⇄ B4 Beijing's alone; A3 ⇄ A4 Shanghai's alone (A4 in the Pudong sub-branch);
  A1 also backs A3 (7m) and B4 (3m);
* equity: P1 holds 60% of B1, which holds 70% of A1 (so P1 controls A1 through B1);
  P2 holds 30% of A1; A1 holds 30% of A2 and 20% of B3; B1 holds 55% of B4, P3 40% of B4.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dsl.expr.uscc import check_character
from examples.demo_bank.users import seed_demo_users
from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.cli.seed import ensure_deployed
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade
from runtime.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]


def _code(prefix: str, n: int) -> str:
    first17 = f"{prefix}{n:05d}"
    return first17 + check_character(first17)


SH, BJ = "91310115MA1G", "91110108MA0B"
FIRMS = {   # name: (credit code, branch, group, company name)
    "A1": (_code(SH, 1), "sh_branch", "G7001", "浦江甲一控股有限公司"),
    "A2": (_code(SH, 2), "sh_branch", "G7001", "浦江甲二实业有限公司"),
    "A3": (_code(SH, 3), "sh_branch", "G7002", "浦江甲三贸易有限公司"),
    "A4": (_code(SH, 4), "sh_pudong_sub_branch", None, "浦江甲四科技有限公司"),
    "B1": (_code(BJ, 1), "bj_branch", "G7001", "燕山乙一投资有限公司"),
    "B2": (_code(BJ, 2), "bj_branch", "G7002", "燕山乙二建设有限公司"),
    "B3": (_code(BJ, 3), "bj_branch", "G7003", "燕山乙三能源有限公司"),
    "B4": (_code(BJ, 4), "bj_branch", None, "燕山乙四物流有限公司"),
}
K = {name: v[0] for name, v in FIRMS.items()}
PERSONS = {"P1": ("P700001", "钱伯远", "controller"), "P2": ("P700002", "孙季平", "shareholder"),
           "P3": ("P700003", "李仲达", "shareholder")}
P = {name: v[0] for name, v in PERSONS.items()}
GROUPS = {"G7001": ("浦江甲集团", "sh_branch", "A1"), "G7002": ("燕山乙集团", "bj_branch", "B2"),
          "G7003": ("燕山能源集团", "bj_branch", "B3")}
GUARANTEES = [("A1", "B1", 10_000_000), ("B1", "A2", 20_000_000), ("A2", "B2", 30_000_000),
              ("B2", "A1", 40_000_000), ("B1", "A1", 5_000_000), ("A1", "A3", 7_000_000),
              ("A1", "B4", 3_000_000), ("B3", "B4", 1_000_000), ("B4", "B3", 1_000_000),
              ("A3", "A4", 2_000_000), ("A4", "A3", 2_000_000)]
HOLDINGS = [("P1", "B1", "60%"), ("B1", "A1", "70%"), ("P2", "A1", "30%"), ("A1", "A2", "30%"),   # a share is
            ("A1", "B3", "20%"), ("B1", "B4", "55%"), ("P3", "B4", "40%")]                     # written as percent
UNKNOWN_FIRM, UNKNOWN_GROUP = _code(BJ, 99999), "G7999"
HIDDEN_TEXT = [K[b] for b in ("B1", "B2", "B3", "B4")] + [FIRMS[b][3] for b in ("B1", "B2", "B3", "B4")] \
    + [P["P3"], PERSONS["P3"][1]]


def _company(name: str) -> dict:
    code, branch, group, label = FIRMS[name]
    return {"credit_code": code, "name": label, "group": group, "legal_form": "limited_liability",
            "industry": "manufacturing", "registered_capital": 100_000_000, "established_on": "2010-01-01",
            "region": code[2:8], "branch": branch, "status": "operating"}


@pytest.fixture(scope="module")
def graph_bank(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('graph_scope') / 'bank.db'}")
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    for code, (label, branch, _) in GROUPS.items():
        records.create("group", {"code": code, "name": label, "lead_branch": branch, "industry": "manufacturing",
                                 "recognized_on": "2020-01-01", "status": "active"}, actor="t")
    for name in FIRMS:
        records.create("company", _company(name), actor="t")
    for key, label, role in PERSONS.values():
        records.create("person", {"person_no": key, "name": label, "role": role}, actor="t")
    for code, (_, _, parent) in GROUPS.items():
        row = records.find("group", code)
        records.update("group", row["id"], {"parent_company": K[parent]}, actor="t")
    for i, (holder, investee, share) in enumerate(HOLDINGS):
        person = holder.startswith("P")
        records.create("equity_holding", {"holding_no": f"E7{i:05d}", "holder_type": "person" if person else "company",
                                          "holder_person" if person else "holder_company": (P if person else K)[holder],
                                          "investee": K[investee], "share": share}, actor="t")
    for i, (g, b, amount) in enumerate(GUARANTEES):
        records.create("guarantee", {"contract_no": f"GC7{i:06d}", "guarantor": K[g], "borrower": K[b],
                                     "type": "joint_liability", "amount": amount, "start_date": "2025-01-01",
                                     "end_date": "2027-01-01", "status": "active"}, actor="t")
    records.create("financial_statement", {"statement_no": f"{K['A1']}-2025Q2", "company": K["A1"], "period": "2025Q2",
                                           "period_end": "2025-06-30", "total_assets": 300_000_000,
                                           "total_liabilities": 200_000_000, "revenue": 50_000_000,
                                           "net_profit": 5_000_000, "operating_cash_flow": 6_000_000,
                                           "interest_expense": 1_000_000, "ebit": 8_000_000}, actor="t")
    seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def graph_app(graph_bank, tmp_path_factory):
    os.environ.setdefault("BANYAN_SECRET_FILE", str(tmp_path_factory.mktemp("secret") / "secret"))
    return create_app(graph_bank)


def _as(app, engine, user: str) -> TestClient:
    token = UserStore(engine).create_token(user, "graph scope test")
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="module")
def sh(graph_app, graph_bank) -> TestClient:
    """A Shanghai relationship manager: reads A1–A4 only."""
    return _as(graph_app, graph_bank, "rm_sh_01")


@pytest.fixture(scope="module")
def everyone(graph_app, graph_bank) -> list[TestClient]:
    """Bank-wide: the administrator and a holder of a bank-wide role (credit committee)."""
    return [_as(graph_app, graph_bank, "admin"), _as(graph_app, graph_bank, "committee_1")]


def _names_nothing_hidden(text: str) -> None:
    leaked = [x for x in HIDDEN_TEXT if x in text]
    assert not leaked, f"names firms or persons of another branch: {leaked}"


def _same_answer(seen, unseen_key: str, unknown, unknown_key: str) -> None:
    """An out-of-scope key gets the very answer an unknown one gets (status, headers that matter, body)."""
    assert seen.status_code == unknown.status_code == 404
    assert seen.headers["content-type"] == unknown.headers["content-type"]
    assert seen.text.replace(unseen_key, "KEY") == unknown.text.replace(unknown_key, "KEY")


# -- firms ------------------------------------------------------------------------------------------
def test_in_scope_firm_counts_the_parties_of_other_branches(sh, everyone):
    r = sh.get(f"/graph/firms/{K['A1']}")
    assert r.status_code == 200
    facts, full = r.json(), everyone[0].get(f"/graph/firms/{K['A1']}").json()
    _names_nothing_hidden(r.text)
    g, fg = facts["guarantees"], full["guarantees"]
    assert g["circle_size"] == fg["circle_size"] == 4 and g["circle"] == sorted([K["A1"], K["A2"]])
    assert g["mutual_with"] == [] and fg["mutual_with"] == [K["B1"]]
    assert [(x["key"], x["amount"]) for x in g["given"]] == [(K["A3"], 7_000_000)] and g["received"] == []
    assert g["other_branches"] == {"circle": 2, "mutual_with": 1, "given": {"firms": 2, "amount": 13_000_000},
                                   "received": {"firms": 2, "amount": 45_000_000}}
    # the RM's totals stay those of the whole bank
    for field in ("guarantor_load", "external_given", "net_assets", "cluster_size", "in_circle"):
        assert g[field] == fg[field], field
    assert g["guarantor_load"] == pytest.approx(0.10)       # (7m + 3m outside the group) ÷ 100m net assets
    e = facts["equity"]
    assert e["ultimate_controller"]["key"] == P["P1"]          # a person seen through the firm in scope
    assert e["control_path"] == [P["P1"], None, K["A1"]]
    assert [(c["holder"], c["firm"]) for c in e["control_chain"]] == [(P["P1"], None), (None, K["A1"])]
    assert {o["person"] for o in e["beneficial_owners"]} == {P["P1"], P["P2"]}
    assert [(s["key"], s["share"]) for s in e["shareholders"]] == [(P["P2"], pytest.approx(0.3))]
    assert e["other_branches"]["shareholders"] == {"firms": 1, "share": pytest.approx(0.7)}
    assert K["A2"] in [h["key"] for h in e["top_holdings"]] and e["other_branches"]["holdings"] >= 1


def test_out_of_scope_firm_is_404_like_an_unknown_one_on_json_and_pictures(sh, everyone):
    for suffix in ("", "/equity.svg", "/guarantee-circle.svg"):
        for hidden in ("B1", "B3"):
            seen = sh.get(f"/graph/firms/{K[hidden]}{suffix}")
            _same_answer(seen, K[hidden], sh.get(f"/graph/firms/{UNKNOWN_FIRM}{suffix}"), UNKNOWN_FIRM)
            assert seen.json()["detail"][0]["loc"] == ["path", "key"]
            assert everyone[0].get(f"/graph/firms/{K[hidden]}{suffix}").status_code == 200


def test_pictures_draw_firms_of_other_branches_as_anonymous_boxes(sh, everyone):
    for picture in ("equity.svg", "guarantee-circle.svg"):
        mine = sh.get(f"/graph/firms/{K['A1']}/{picture}")
        assert mine.status_code == 200 and mine.headers["content-type"].startswith("image/svg+xml")
        _names_nothing_hidden(mine.text)
        assert "其他机构客户" in mine.text and FIRMS["A1"][3][:10] in mine.text
        full = everyone[0].get(f"/graph/firms/{K['A1']}/{picture}").text
        assert "其他机构客户" not in full and (K["B1"] in full or FIRMS["B1"][3][:10] in full)
    tree = sh.get(f"/graph/firms/{K['A1']}/equity.svg").text
    assert PERSONS["P1"][1] in tree                            # the ultimate controller at the top


# -- groups -----------------------------------------------------------------------------------------
def test_group_led_by_the_branch_has_its_exposure(sh, everyone):
    r = sh.get("/graph/groups/G7001")
    assert r.status_code == 200
    facts, full = r.json(), everyone[0].get("/graph/groups/G7001").json()
    _names_nothing_hidden(r.text)
    assert facts["access"] == "lead_branch" and facts["exposure"] == full["exposure"] is not None
    assert facts["members"]["declared"] == sorted([K["A1"], K["A2"]]) and facts["members"]["others"]["declared"] == 1
    assert facts["cut"] is True and facts["parent_company"] == K["A1"]
    assert [c["others"] for c in facts["circles"]] == [2] and facts["circles"][0]["members_in_group"] == 3


def test_group_served_but_not_led_is_cut_and_has_no_exposure(sh, everyone):
    r = sh.get("/graph/groups/G7002")
    assert r.status_code == 200
    facts = r.json()
    _names_nothing_hidden(r.text)
    assert facts["access"] == "serving_branch" and facts["cut"] is True and facts["exposure"] is None
    assert facts["members"]["declared"] == [K["A3"]] and facts["members"]["others"]["declared"] == 1
    assert facts["parent_company"] is None                     # B2 is Beijing's
    assert everyone[0].get("/graph/groups/G7002").json()["exposure"] is not None


def test_group_without_a_member_in_the_branch_is_404_like_an_unknown_one(sh, everyone):
    _same_answer(sh.get("/graph/groups/G7003"), "G7003", sh.get(f"/graph/groups/{UNKNOWN_GROUP}"), UNKNOWN_GROUP)
    assert sh.get("/graph/groups/G7003").json()["detail"][0]["loc"] == ["path", "code"]
    assert everyone[0].get("/graph/groups/G7003").status_code == 200


# -- circles, status --------------------------------------------------------------------------------
def test_circles_list_only_firms_the_branch_may_read(sh, everyone):
    r = sh.get("/graph/circles")
    assert r.status_code == 200
    _names_nothing_hidden(r.text)
    found = {tuple(c["members"]): c for c in r.json()}
    assert set(found) == {(K["A1"], K["A2"]), tuple(sorted([K["A3"], K["A4"]]))}   # B3 ⇄ B4 is not listed
    spanning = found[(K["A1"], K["A2"])]
    assert spanning["size"] == 4 and spanning["others"] == 2 and spanning["spans_groups"] is True
    assert spanning["groups"] == {"G7001": 2}
    assert spanning["names"] == {K["A1"]: FIRMS["A1"][3], K["A2"]: FIRMS["A2"][3]}    # one's own clients, by name
    assert found[tuple(sorted([K["A3"], K["A4"]]))]["groups"] == {"(no group)": 1, "G7002": 1}
    assert len(everyone[0].get("/graph/circles").json()) == 3
    status = sh.get("/graph/status")
    assert status.status_code == 200 and status.json()["firms"] == 8
    _names_nothing_hidden(status.text)


# -- contagion --------------------------------------------------------------------------------------
def test_contagion_from_a_seed_of_another_branch_is_404_like_an_unknown_one(sh, everyone):
    seen = sh.post("/graph/contagion", json={"distressed": [K["A1"], K["B1"]]})
    unknown = sh.post("/graph/contagion", json={"distressed": [K["A1"], UNKNOWN_FIRM]})
    _same_answer(seen, K["B1"], unknown, UNKNOWN_FIRM)
    assert seen.json()["detail"][0]["loc"] == ["body", "distressed", 1]
    assert sh.post("/graph/contagion", json={"distressed": {K["B2"]: 0.5}}).status_code == 404
    assert everyone[0].post("/graph/contagion", json={"distressed": [K["B1"]]}).status_code == 200


def test_contagion_names_only_what_the_branch_may_read(sh, everyone):
    body = {"distressed": [K["A1"]], "min_score": 0.000001}
    r = sh.post("/graph/contagion", json=body)
    assert r.status_code == 200
    _names_nothing_hidden(r.text)
    mine, full = r.json(), everyone[0].post("/graph/contagion", json=body).json()
    readable = {K[a] for a in ("A1", "A2", "A3", "A4")} | {P["P1"], P["P2"]}
    shown = [a for a in full["affected"] if a["key"] in readable]
    assert len(shown) < len(full["affected"])                   # the test reaches other branches
    assert [a["key"] for a in mine["affected"]] == [a["key"] for a in shown]
    assert [a["path"] for a in mine["affected"]] == [[k if k in readable else None for k in a["path"]] for a in shown]
    assert None in [k for a in mine["affected"] for k in a["path"]]
    assert mine["other_branches"]["affected"] == len(full["affected"]) - len(shown)
    assert mine["total_affected"] == full["total_affected"]


# -- the whole bank ---------------------------------------------------------------------------------
def test_bank_wide_people_see_everything(everyone):
    for client in everyone:
        facts = client.get(f"/graph/firms/{K['A1']}").json()
        g = facts["guarantees"]
        assert g["circle"] == sorted(K[x] for x in ("A1", "A2", "B1", "B2")) and g["mutual_with"] == [K["B1"]]
        assert g["other_branches"] == {"circle": 0, "mutual_with": 0, "given": {"firms": 0, "amount": 0.0},
                                       "received": {"firms": 0, "amount": 0.0}}
        assert facts["equity"]["control_path"] == [P["P1"], K["B1"], K["A1"]]
        for code in GROUPS:
            group = client.get(f"/graph/groups/{code}").json()
            assert group["access"] == "bank_wide" and group["cut"] is False and group["exposure"] is not None
        assert all(c["others"] == 0 for c in client.get("/graph/circles").json())
        assert client.get(f"/graph/firms/{K['B3']}/guarantee-circle.svg").status_code == 200
        reached = client.post("/graph/contagion", json={"distressed": [K["B1"]], "min_score": 0.000001}).json()
        assert reached["other_branches"] == {"affected": 0} and None not in reached["affected"][0]["path"]
