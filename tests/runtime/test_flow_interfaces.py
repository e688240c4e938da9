"""The flow API and CLI over the same bank (SQLite and PostgreSQL): start with an idempotency
key, act with If-Match, 4xx with codes, inbox, preview, graph.svg; `banyan flow …` and
`banyan worker --once`."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from runtime.cli.main import main
from runtime.http.app import create_app

from .flow_bank import make_bank
from .test_flow_service import CREDIT

FORM = {"amount": 8 * 10**8, **CREDIT}


@pytest.fixture
def client(engine):
    make_bank(engine)
    return TestClient(create_app(engine))


def test_flow_api(client):
    rm = {"X-Banyan-Actor": "rm"}
    r = client.post("/flows/group_credit_approval/instances", json={"subject": "G0001", "form": FORM},
                    headers={**rm, "Idempotency-Key": "k1"})
    assert r.status_code == 201
    again = client.post("/flows/group_credit_approval/instances", json={"subject": "G0001", "form": FORM},
                        headers={**rm, "Idempotency-Key": "k1"})
    assert again.json() == r.json()
    inst = r.json()
    task = inst["tasks"][0]["id"]
    box = client.get("/inbox", headers={"X-Banyan-Actor": "officer"}).json()
    assert box["counts"]["mine"] == 1 and box["items"][0]["task"] == task
    assert client.get(f"/flow-tasks/{task}").json()["step"]["fields"]["required"] == ["review_opinion"]
    url = f"/flow-instances/{inst['id']}"
    r = client.post(f"{url}/complete", json={"task": task}, headers={"X-Banyan-Actor": "risk"})
    assert r.status_code == 403 and r.json()["error"] == "not_assignee"
    r = client.post(f"{url}/complete", json={"task": task, "fields": {"review_opinion": "ok"}},
                    headers={"X-Banyan-Actor": "officer", "If-Match": "0"})
    assert r.status_code == 409 and r.json()["error"] == "stale_version"
    r = client.post(f"{url}/complete", json={"task": task, "fields": {"review_opinion": "ok"}},
                    headers={"X-Banyan-Actor": "officer", "If-Match": "1"})
    assert r.status_code == 200 and r.json()["current_nodes"] == ["risk_assessment"]
    r = client.post(f"{url}/approve", json={"task": task}, headers={"X-Banyan-Actor": "officer"})
    assert r.status_code == 409 and r.json()["error"] == "task_closed"          # it was done: a conflict
    r = client.post(f"{url}/approve", json={"task": f"{inst['id']}/999"}, headers={"X-Banyan-Actor": "officer"})
    assert r.status_code == 404 and r.json()["error"] == "unknown_task"
    r = client.post(f"{url}/fly", json={}, headers={"X-Banyan-Actor": "officer"})
    assert r.status_code == 422 and r.json()["error"] == "unknown_action"
    r = client.post(f"{url}/comment", json={"text": "looking", "actor": "x"}, headers={"X-Banyan-Actor": "risk"})
    assert r.status_code == 422
    r = client.post(f"{url}/comment", json={"text": "looking"}, headers={"X-Banyan-Actor": "risk"})
    assert r.status_code == 200
    got = client.get(url).json()
    assert [e["kind"] for e in got["timeline"]][-1] == "comment" and got["version"] == 3
    assert client.get("/flow-instances/nope").status_code == 404
    p = client.post("/flows/group_credit_approval/preview", json={"subject": "G0001", "form": FORM}, headers=rm)
    assert p.json()["steps"][-1]["node"] == "committee"
    svg = client.get(f"/flows/group_credit_approval/graph.svg?instance={inst['id']}")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(svg.text)
    current = [g.get("data-node") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "current"]
    assert current == ["risk_assessment"]
    assert client.get("/flows/nope/graph.svg").status_code == 404
    m = client.post("/flows/group_credit_approval/migrations", json={"to_version": 1}, headers=rm).json()
    assert m["ok"] and m["instances"] == []


def test_flow_cli(engine, db_url, tmp_path, monkeypatch):
    make_bank(engine)
    monkeypatch.setenv("BANYAN_DATABASE_URL", db_url)
    run = CliRunner().invoke
    r = run(main, ["flow", "start", "group_credit_approval", "--subject", "G0001", "--form", json.dumps(FORM),
                   "--as", "rm"])
    assert r.exit_code == 0, r.output
    inst = json.loads(r.output)["id"]
    r = run(main, ["flow", "inbox", "--as", "officer"])
    assert r.exit_code == 0 and "document_review" in r.output and "mine: 1" in r.output
    r = run(main, ["flow", "act", inst, "complete", "--as", "officer"])
    assert r.exit_code == 1 and "invalid_form" in r.output and "review_opinion: This field is required" in r.output
    r = run(main, ["flow", "act", inst, "complete", "--as", "officer", "--format", "json"])   # the API's body
    assert r.exit_code == 1 and json.loads(r.stdout)["error"] == "invalid_form"
    assert [p["loc"] for p in json.loads(r.stdout)["detail"]] == [["review_opinion"]]
    r = run(main, ["flow", "act", inst, "complete", "--as", "officer", "--fields", '{"review_opinion": "ok"}'])
    assert r.exit_code == 0 and json.loads(r.output)["current_nodes"] == ["risk_assessment"]
    r = run(main, ["flow", "act", inst, "complete", "--as", "officer"])
    assert r.exit_code == 1 and "which_task" in r.output and "--task" in r.output
    r = run(main, ["flow", "act", inst, "complete", "--as", "officer", "--format", "json"])
    assert r.exit_code == 1 and json.loads(r.stdout)["error"] == "which_task"
    r = run(main, ["flow", "show", inst])
    assert json.loads(r.output)["timeline"][0]["kind"] == "started"
    out = tmp_path / "g.svg"
    r = run(main, ["flow", "graph", "group_credit_approval", "--out", str(out), "--instance", inst])
    assert r.exit_code == 0 and "risk_assessment" in r.output and ET.parse(out).getroot() is not None
    r = run(main, ["worker", "--once"])
    assert r.exit_code == 0 and "flow-timers 0" in r.output and "feed " in r.output and "feed failed" not in r.output
    r = run(main, ["flow", "migrate", "group_credit_approval", "--to", "1", "--as", "ops"])
    assert r.exit_code == 0 and json.loads(r.output)["ok"]
