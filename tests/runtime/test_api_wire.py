"""Values on the wire read back as themselves (runtime/http/app.py, dsl/values write_value): a
record fetched and sent back unchanged stays unchanged — a percent goes out as its points ("70"
for 70%), never the stored fraction ("0.70", which the API reads as 0.7%). SQLite and PostgreSQL."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from runtime.cli.main import main
from runtime.http.app import create_app

from .bundles import entity
from .flow_bank import make_bank
from .records_bundle import COMPANY, GROUP, deploy

FACILITY = entity("facility", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true}
    - {name: company, type: ref(company), label: {en: Company}}
    - {name: amount, type: money, label: {en: Amount}}
    - {name: share, type: percent, label: {en: Share}, min: 0%, max: 100%}
    - {name: margin, type: percent, label: {en: Margin}}
    - {name: starts, type: date, label: {en: Starts}}
    - {name: kind, type: enum, label: {en: Kind}, values: [term, revolving]}
    - {name: used, type: percent, label: {en: Used}, compute: "share * 2"}
""")
META = {"id", "version", "created_at", "updated_at"}


@pytest.fixture
def api(engine):
    deploy(engine, GROUP, COMPANY, FACILITY)
    c = TestClient(create_app(engine))
    assert c.post("/records/group", json={"code": "G1", "name": "one"}).status_code == 201
    assert c.post("/records/company", json={"code": "C100", "name": "Acme", "group": "G1", "capital": "100",
                                            "debt": "70"}).status_code == 201
    return c


def writable(api, entity: str, record: dict) -> dict:
    """What a client may send back of a record it fetched: every field that is not computed."""
    (ent,) = [e for e in api.get("/entities").json() if e["name"] == entity]
    return {f["name"]: record[f["name"]] for f in ent["fields"] if not f["computed"]}


def test_a_percent_goes_out_as_points_and_a_record_sent_back_is_unchanged(api):
    r = api.post("/records/facility", json={"code": "F1", "company": "C100", "amount": "5000万", "share": "70%",
                                            "margin": 1.25, "starts": "2026-03-02", "kind": "term"})
    assert r.status_code == 201
    created = r.json()
    assert (created["share"], created["margin"], created["used"]) == ("70", "1.25", "140")
    assert Decimal(created["amount"]) == 50_000_000 and created["starts"] == "2026-03-02"
    got = api.get(f"/records/facility/{created['id']}").json()
    assert got == created
    back = api.patch(f"/records/facility/{got['id']}", json=writable(api, "facility", got), headers={"If-Match": "1"})
    assert back.status_code == 200, back.json()
    assert back.json()["version"] == 1                 # nothing changed, so nothing was written
    assert back.json() == got
    # the company's computed debt ratio (debt / capital) too
    (company,) = api.get("/records/company").json()["items"]
    assert company["debt_ratio"] == "70"
    assert api.patch(f"/records/company/{company['id']}", json=writable(api, "company", company)
                     ).json()["version"] == 1


def test_the_whole_fetched_record_can_be_sent_back_with_a_change(api):
    """A client that edits the record it fetched and sends all of it back: the server's own fields
    (id, version, timestamps, computed values) are taken when they say what the record says; the
    version guards against a lost update; another id or a changed computed value is refused."""
    created = api.post("/records/facility", json={"code": "F1", "company": "C100", "share": "70%"}).json()
    got = api.get(f"/records/facility/{created['id']}").json()
    assert set(got) >= META | {"used"}
    back = api.patch(f"/records/facility/{got['id']}", json={**got, "share": "35"})
    assert back.status_code == 200, back.json()
    assert (back.json()["share"], back.json()["used"], back.json()["version"]) == ("35", "70", 2)
    stale = api.patch(f"/records/facility/{got['id']}", json={**got, "share": "40"})      # still version 1
    assert stale.status_code == 409, stale.json()
    fresh = back.json()
    for body, loc, code in (({**fresh, "used": "99"}, ["used"], "read_only"),
                            ({**fresh, "id": fresh["id"] + 1}, ["id"], "id_mismatch"),
                            ({**fresh, "version": "two"}, ["version"], "version")):
        r = api.patch(f"/records/facility/{fresh['id']}", json=body, headers={"Accept-Language": "zh"})
        assert r.status_code == 422, r.json()
        (problem,) = r.json()["detail"]
        assert (problem["loc"], problem["type"]) == (loc, code) and "Error" not in problem["msg"]
    assert api.get(f"/records/facility/{fresh['id']}").json() == fresh                  # nothing written


def test_points_in_every_record_answer_and_in_filters(api):
    created = api.post("/records/facility", json={"code": "F1", "share": 12.5}).json()
    assert created["share"] == "12.5"
    page = api.get("/records/facility", params={"share": created["share"]}).json()   # a filter reads points too
    assert page["total"] == 1 and page["items"][0]["share"] == "12.5"
    changed = api.patch(f"/records/facility/{created['id']}", json={"share": "0.7"}).json()
    assert changed["share"] == "0.7" and changed["used"] == "1.4"      # 0.7 is 0.7%, and says so
    r = api.post("/records/facility", json={"code": "F2", "share": 170})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["share"]


def test_the_cli_prints_points_and_reads_them_back(engine, db_url, monkeypatch):
    deploy(engine, GROUP, COMPANY, FACILITY)
    monkeypatch.setenv("BANYAN_DATABASE_URL", db_url)
    run = CliRunner().invoke
    r = run(main, ["records", "create", "facility", "--set", "code=F1", "--set", "share=70%"])
    assert r.exit_code == 0, r.output
    printed = json.loads(r.output)
    assert printed["share"] == "70" and printed["used"] == "140"
    r = run(main, ["records", "update", "facility", "F1", "--json", json.dumps({"share": printed["share"]})])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["version"] == 1
    r = run(main, ["records", "list", "facility", "--json"])
    assert json.loads(r.output.splitlines()[0])["share"] == "70"
    r = run(main, ["records", "list", "facility", "--fields", "code,share,used"])
    assert r.exit_code == 0 and "70%" in r.output and "140%" in r.output and "0.70" not in r.output


def test_a_flow_form_percent_goes_out_as_points_and_comes_back_the_same(engine):
    make_bank(engine)
    api = TestClient(create_app(engine))
    form = {"project_name": "Acme 2026", "products": ["credit"], "target_revenue": 10**6,
            "start_date": "2026-04-01", "end_date": "2026-12-31",
            "participants": [{"org_unit": "bj_branch", "lead": True, "share": "60%"},
                             {"org_unit": "sh_branch", "lead": False, "share": 40}]}
    r = api.post("/flows/joint_marketing/instances", json={"subject": "G0001", "form": form},
                 headers={"X-Banyan-Actor": "gcm"})
    assert r.status_code == 201, r.json()
    view = r.json()
    assert [p["share"] for p in view["form"]["participants"]] == ["60", "40"]
    assert api.get(f"/flow-instances/{view['id']}").json()["form"]["participants"] == view["form"]["participants"]

    def task(v: dict, node: str) -> str:
        return next(t["id"] for t in v["tasks"] if t["node"] == node)
    view = api.post(f"/flow-instances/{view['id']}/approve", json={"task": task(view, "initiation")},
                    headers={"X-Banyan-Actor": "head"}).json()
    assert api.get(f"/flow-tasks/{task(view, 'design')}").json()["instance"]["form"]["participants"][0]["share"] == "60"
    # the participants sent back as they were shown: still 60% + 40% = 100% (as fractions, 0.6% + 0.4% would fail)
    r = api.post(f"/flow-instances/{view['id']}/complete",
                 json={"task": task(view, "design"),
                       "fields": {"solution": "cash pooling", "participants": view["form"]["participants"]}},
                 headers={"X-Banyan-Actor": "pm2"})
    assert r.status_code == 200, r.json()
    assert [p["share"] for p in r.json()["form"]["participants"]] == ["60", "40"]
