"""The relationship graph over a seeded demo bank (scale 0.1, seeded once per backend): the
planted structures through the API and the CLI and nothing else, firm and group facts,
contagion, pictures, errors; then edits through the records service kept current
incrementally, equal to a fresh build, also seen by another process's cache."""
from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dsl.compiler import compile_texts
from engine.graph_from_records import snapshot_from_records
from examples.demo_bank import generate
from runtime.cli.main import main
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.graph.context import graph_context
from runtime.graph.load import build_state
from runtime.graph.service import GraphService, graph_service
from runtime.http.app import create_app
from runtime.records.context import Loader, RecordContext
from runtime.records.service import Records
from runtime.storage.db import make_engine

from .conftest import PG_URL, _pg_available

SCALE, SEED = 0.1, 42


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def bank(request, tmp_path_factory):
    """(database url, demo bank as generated) — deployed and seeded once per backend."""
    if request.param == "sqlite":
        url, cleanup = f"sqlite:///{tmp_path_factory.mktemp('graph') / 'bank.db'}", None
    else:
        if not _pg_available():
            pytest.skip(f"PostgreSQL does not answer at {PG_URL}")
        schema = "t_" + uuid.uuid4().hex[:12]
        admin = sa.create_engine(PG_URL)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
        cleanup = (admin, schema)
    demo = generate(scale=SCALE, seed=SEED, transactions=0)
    engine = make_engine(url)
    ensure_deployed(engine, "configs", "test")
    seed_demo(Records(engine), bank=demo, actor="test")
    engine.dispose()
    yield url, demo
    if cleanup:
        admin, schema = cleanup
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(scope="module")
def engine(bank):
    eng = make_engine(bank[0])
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def client(engine):
    return TestClient(create_app(engine))


@pytest.fixture(scope="module")
def planted(bank):
    p = bank[1].planted
    return {"pairs": [tuple(x) for x in p["mutual_pairs"]], "cycles": [tuple(c) for c in p["cycles"]],
            "big": tuple(p["big_circle"])}


@pytest.fixture(scope="module")
def oracle(bank):
    """The engine's snapshot from the generated records (no database): what the API must agree with."""
    return snapshot_from_records(bank[1].records)


def expected_circles(planted) -> set[frozenset]:
    return {frozenset(x) for x in planted["pairs"] + planted["cycles"] + [planted["big"]]}


def test_planted_circles_are_found_and_nothing_else(client, planted):
    found = client.get("/graph/circles").json()
    assert len(found) == 26
    assert {frozenset(c["members"]) for c in found} == expected_circles(planted)
    spanning = [c for c in found if c["spans_groups"]]
    assert [frozenset(c["members"]) for c in spanning] == [frozenset(planted["big"])]
    assert spanning[0]["size"] == 40 and len(spanning[0]["groups"]) == 4
    assert client.get("/graph/circles", params={"min_size": 7}).json() == [found[0]]


def test_cli_lists_the_planted_circles(bank, planted, monkeypatch):
    monkeypatch.setenv("BANYAN_DATABASE_URL", bank[0])
    result = CliRunner().invoke(main, ["graph", "circles", "--json"])
    assert result.exit_code == 0, result.output
    assert {frozenset(c["members"]) for c in json.loads(result.output)} == expected_circles(planted)
    text = CliRunner().invoke(main, ["graph", "circles"])
    assert text.exit_code == 0 and text.output.strip().endswith("26 circle(s)")


def test_firm_facts(client, planted, oracle):
    a, b = planted["pairs"][0]
    facts = client.get(f"/graph/firms/{a}").json()
    g = facts["guarantees"]
    assert g["in_circle"] and g["circle_size"] == 2 and g["circle"] == sorted([a, b])
    assert g["mutual_with"] == [b]
    assert b in {x["key"] for x in g["given"]} and b in {x["key"] for x in g["received"]}
    assert g["guarantor_load"] is None or g["guarantor_load"] >= 0
    big = client.get(f"/graph/firms/{planted['big'][0]}").json()["guarantees"]
    assert big["circle_size"] == 40 and big["mutual_with"] == []
    e = facts["equity"]
    assert (e["ultimate_controller"] or {}).get("key") == oracle.controller(a)
    if e["control_chain"]:
        assert e["control_path"][0] == e["control_chain"][0]["holder"] and e["control_path"][-1] == a
    assert [(o["person"], o["share"]) for o in e["beneficial_owners"]] == \
        [(p, pytest.approx(s)) for p, s in oracle.equity.beneficial_owners(a)]


def test_beneficial_owner_threshold_and_comparison(client, oracle, bank):
    firm, (person, share) = next((c["credit_code"], oracle.equity.beneficial_owners(c["credit_code"])[0])
                                 for c in bank[1].records["company"]
                                 if c["credit_code"] in oracle.equity and oracle.equity.beneficial_owners(c["credit_code"]))
    at = {"threshold": repr(share)}
    owners = client.get(f"/graph/firms/{firm}", params=at).json()["equity"]["beneficial_owners"]
    assert person in {o["person"] for o in owners}
    strict = client.get(f"/graph/firms/{firm}", params={**at, "inclusive": "false"}).json()["equity"]
    assert person not in {o["person"] for o in strict["beneficial_owners"]} and strict["comparison"] == ">"


def test_group_facts(client, bank, planted):
    demo = bank[1]
    group = demo.records["company"][0]["group"]
    facts = client.get(f"/graph/groups/{group}").json()
    members = facts["members"]
    assert members["declared"] == sorted(c["credit_code"] for c in demo.records["company"] if c["group"] == group)
    assert members["applied"] is False
    assert all(s["kind"] in ("join", "leave") and s["reason"] for s in members["suggestions"])
    for s in members["suggestions"]:
        assert s["evidence"]["path"] == [] or s["evidence"]["path"][-1] == s["key"]
    big_group = next(c["group"] for c in demo.records["company"] if c["credit_code"] == planted["big"][0])
    crossing = client.get(f"/graph/groups/{big_group}").json()["cross_group_circles"]
    assert [set(c["members"]) for c in crossing] == [set(planted["big"])] and crossing[0]["members_in_group"] == 10


def test_group_exposure_matches_the_planted_ratios(client, bank):
    planted = bank[1].planted
    for group, usage in planted["limit_usage"].items():
        x = client.get(f"/graph/groups/{group}").json()["exposure"]
        assert x["limit_usage"]["ratio"] == pytest.approx(float(usage), abs=0.001)
    for group, ratio in planted["concentration"].items():
        x = client.get(f"/graph/groups/{group}").json()["exposure"]
        assert x["net_capital"] == 30e9 and x["tier1_capital"] == 24e9
        assert x["group_credit"]["ratio"] == pytest.approx(float(ratio), abs=0.001)
        assert x["group_credit"]["over_limit"] == (ratio > Decimal("0.15"))
        assert x["connected"]["ratio"] >= x["group_credit"]["credit"] / 24e9 - 1e-9 or x["connected"]["firms"]
        assert x["indirect"]["total"] >= x["group_credit"]["credit"]


def test_contagion_explains_each_affected_firm(client, planted):
    a, b = planted["pairs"][0]
    body = {"distressed": [a], "holding_rate": 0.0, "control_rate": 0.0}
    r = client.post("/graph/contagion", json=body)
    assert r.status_code == 200
    affected = {x["key"]: x for x in r.json()["affected"]}
    assert b in affected and affected[b]["path"] == [a, b] and 0 < affected[b]["score"] <= 1
    assert all(x["path"][0] == a and x["path"][-1] == k for k, x in affected.items())
    weighted = client.post("/graph/contagion", json={**body, "distressed": {a: 0.5}}).json()
    assert {x["key"]: x for x in weighted["affected"]}[b]["score"] < affected[b]["score"]


def _well_formed_offline(text: str) -> ET.Element:
    root = ET.fromstring(text)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    for el in root.iter():
        assert el.tag.split("}")[-1] not in ("script", "image", "foreignObject", "use", "a")
        for name, value in el.attrib.items():
            assert "href" not in name
            assert "url(" not in value or value.startswith("url(#")
    assert "http" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    return root


def test_svg_pictures_are_well_formed_and_offline(client, planted, bank):
    firm = planted["big"][0]
    r = client.get(f"/graph/firms/{firm}/guarantee-circle.svg")
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    _well_formed_offline(r.text)
    small = client.get(f"/graph/firms/{firm}/guarantee-circle.svg", params={"max_nodes": 5, "depth": 1}).text
    _well_formed_offline(small)
    assert "3 of 40 firms shown" in small      # the firm and its guarantor and borrower, one step away
    parent = bank[1].records["group"][0]["parent_company"]
    for params in ({}, {"focus": "true", "depth": 2, "children": 3}):
        r = client.get(f"/graph/firms/{parent}/equity.svg", params=params)
        assert r.status_code == 200
        _well_formed_offline(r.text)


def test_cli_firm_group_and_svg(bank, planted, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_DATABASE_URL", bank[0])
    runner = CliRunner()
    a, b = planted["pairs"][0]
    r = runner.invoke(main, ["graph", "firm", a])
    assert r.exit_code == 0 and "guarantee circle: yes, 2 firms" in r.output and b in r.output
    r = runner.invoke(main, ["graph", "group", bank[1].records["group"][0]["code"]])
    assert r.exit_code == 0 and "group credit ÷ net capital" in r.output
    out = tmp_path / "c.svg"
    r = runner.invoke(main, ["graph", "svg", a, "--out", str(out), "--kind", "guarantee"])
    assert r.exit_code == 0 and out.exists()
    _well_formed_offline(out.read_text(encoding="utf-8"))
    r = runner.invoke(main, ["graph", "firm", "NO_SUCH_FIRM"])
    assert r.exit_code == 1 and "NO_SUCH_FIRM" in r.output
    assert runner.invoke(main, ["graph", "group", "NO_SUCH_GROUP"]).exit_code == 1
    assert runner.invoke(main, ["graph", "svg", a, "--out", str(out), "--kind", "tree"]).exit_code == 2


def test_errors_are_clear_4xx(client, planted):
    r = client.get("/graph/firms/NO_SUCH_FIRM")
    assert r.status_code == 404 and r.json()["error"] == "not_found" and "NO_SUCH_FIRM" in r.json()["message"]
    assert r.json()["detail"][0]["loc"] == ["path", "key"]
    assert client.get("/graph/groups/NO_SUCH_GROUP").status_code == 404
    assert client.get("/graph/firms/NO_SUCH_FIRM/equity.svg").status_code == 404
    r = client.get(f"/graph/firms/{planted['big'][0]}", params={"threshold": "2"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "threshold"]
    r = client.post("/graph/contagion", json={"distressed": ["NO_SUCH_FIRM"]})
    assert r.status_code == 404 and r.json()["detail"][0]["loc"] == ["body", "distressed", 0]
    for body, loc in (({"distressed": []}, "distressed"), ({"distressed": ["x"], "control_rate": 3}, "control_rate"),
                      ({"distressed": ["x"], "bogus": 1}, "bogus"), ({}, "distressed")):
        r = client.post("/graph/contagion", json=body)
        assert r.status_code == 422 and any(loc in d["loc"] for d in r.json()["detail"]), (body, r.json())
    assert client.get(f"/graph/firms/{planted['big'][0]}/guarantee-circle.svg", params={"depth": 0}).status_code == 422


def test_graph_functions_read_the_live_graph_in_expressions(engine, planted):
    firm = compile_texts({"firm.yaml": FIRM}).bundle.entities["firm"]
    big, outside = planted["big"][0], planted["pairs"][0][0]
    ctx = {**graph_context(engine), "credit_code": big}
    assert firm.field("circle").compute(ctx) == 40
    records = Records(engine)
    with engine.connect() as conn:
        loader = Loader(conn, records.live)
        row = RecordContext("company", {"credit_code": outside}, loader, None)
        assert firm.field("circle").compute(row) == 2 and firm.field("mutual").compute(row) is True
        assert firm.field("in_circle").compute(RecordContext("company", {"credit_code": big}, loader, None)) is True


FIRM = """apiVersion: banyan/v1
kind: Entity
metadata: {name: firm}
spec:
  key: credit_code
  fields:
    - {name: credit_code, type: string, required: true, unique: true}
    - {name: in_circle, type: bool, compute: "in_guarantee_circle(credit_code)"}
    - {name: circle, type: integer, compute: "circle_size(credit_code)"}
    - {name: mutual, type: bool, compute: "mutual_guarantee(credit_code)"}
"""


def _fresh(engine) -> object:
    records = Records(engine)
    with engine.connect() as conn:
        return build_state(conn, records.refresh(), 0).snapshot


def _same(a, b) -> None:
    assert a.guarantees.circles() == b.guarantees.circles()
    assert a.guarantees.clusters() == b.guarantees.clusters()
    assert a.guarantees.mutual_pairs() == b.guarantees.mutual_pairs()
    assert sorted(a.guarantees.edges()) == sorted(b.guarantees.edges())
    firms = sorted(a.group_of)
    assert firms == sorted(b.group_of)
    assert [a.controller(f) for f in firms] == [b.controller(f) for f in firms]


def test_edits_are_applied_incrementally_and_equal_a_fresh_build(bank, engine, planted):
    """Runs last: edits through the records service, a second process's cache, then undone."""
    service = graph_service(engine)
    other_engine = make_engine(bank[0])          # another process: its own engine and cache
    other = GraphService(other_engine)
    try:
        service.snapshot(), other.snapshot()
        records = Records(engine)
        on_circle = set().union(*expected_circles(planted))
        x, y = [c["credit_code"] for c in bank[1].records["company"] if c["credit_code"] not in on_circle][:2]
        made = [records.create("guarantee", {"contract_no": f"GC99999{i}0", "guarantor": g, "borrower": b,
                                             "type": "joint_liability", "amount": 1_000_000 * (i + 1),
                                             "start_date": "2025-01-01", "end_date": "2026-01-01"}, actor="t")
                for i, (g, b) in enumerate([(x, y), (y, x), (x, y)])]
        snap = service.snapshot()
        assert service.last_update["kind"] == "incremental"
        assert sorted([x, y]) in [list(c) for c in snap.guarantees.circles()]
        assert snap.guarantees.amount(x, y) == 4_000_000
        _same(snap, _fresh(engine))
        other_snap = other.snapshot()
        assert other.last_update["kind"] == "incremental" and len(other_snap.guarantees.circles()) == 27
        records.update("guarantee", made[2]["id"], {"status": "released"}, actor="t")
        records.update("guarantee", made[0]["id"], {"amount": 5_000_000}, actor="t")
        snap = service.snapshot()
        assert snap.guarantees.amount(x, y) == 5_000_000
        _same(snap, _fresh(engine))
        holding = next(h for h in records.query("equity_holding", limit=50).items if h["holder_company"])
        records.update("equity_holding", holding["id"], {"share": "0.01"}, actor="t")
        snap = service.snapshot()
        assert service.last_update["equity_rebuilt"] is True
        _same(snap, _fresh(engine))
        records.update("equity_holding", holding["id"], {"share": holding["share"]}, actor="t")
        for g in made:
            records.delete("guarantee", g["id"], actor="t")
        snap, other_snap = service.snapshot(), other.snapshot()
        assert {frozenset(c) for c in snap.guarantees.circles()} == expected_circles(planted)
        _same(snap, _fresh(engine))
        _same(other_snap, snap)
    finally:
        other_engine.dispose()
