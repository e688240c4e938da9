"""The HTTP API over a deployed bundle: CRUD, query, errors as 4xx JSON with field paths."""
from __future__ import annotations

from fastapi.testclient import TestClient

from runtime.http.app import create_app

from .records_bundle import deploy


def client(engine):
    return TestClient(create_app(engine))


def test_nothing_deployed_is_a_clear_409(engine):
    c = client(engine)
    assert c.get("/health").json()["deployment"] is None
    r = c.get("/records/company")
    assert r.status_code == 409 and r.json()["error"] == "nothing_deployed"


def test_records_crud_over_http(engine):
    deploy(engine)
    c = client(engine)
    assert c.get("/health").json()["deployment"]["version"] == 1
    assert {e["name"] for e in c.get("/entities").json()} == {"company", "group"}
    g = c.post("/records/group", json={"code": "G1", "name": "one"}, headers={"X-Banyan-Actor": "alice"})
    assert g.status_code == 201
    r = c.post("/records/company", json={"code": "C100", "name": "Acme", "group": "G1", "capital": "12.30"})
    assert r.status_code == 201 and r.json()["capital"] == "12.30" and r.json()["group"] == "G1"
    cid = r.json()["id"]
    r = c.patch(f"/records/company/{cid}", json={"capital": 20}, headers={"If-Match": "1"})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = c.patch(f"/records/company/{cid}", json={"capital": 30}, headers={"If-Match": "1"})
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    page = c.get("/records/company", params={"group": "G1", "order": "-code"}).json()
    assert page["total"] == 1 and page["items"][0]["code"] == "C100"
    assert c.get(f"/records/group/{g.json()['id']}").json()["member_count"] == 1
    assert c.delete(f"/records/company/{cid}").status_code == 204
    assert c.get(f"/records/company/{cid}").status_code == 404
    assert [d["version"] for d in c.get("/deployments").json()] == [1]
    assert c.get("/deployments/9").status_code == 404
    assert "/records/{entity}" in c.get("/openapi.json").json()["paths"]


def test_invalid_values_are_422_with_field_paths(engine):
    deploy(engine)
    c = client(engine)
    r = c.post("/records/company", json={"code": "C1", "capital": "lots"})
    assert r.status_code == 422
    locs = {tuple(d["loc"]) for d in r.json()["detail"]}
    assert {("name",), ("capital",), ("code",)} <= locs
    assert c.post("/records/company", json=[1, 2]).status_code == 422
    r = c.get("/records/compnay")
    assert r.status_code == 404 and "company" in r.json()["message"]


def test_ids_beyond_64_bits_are_422_not_a_crash(engine):
    # Found by schemathesis: a huge path id overflowed the driver (500).
    deploy(engine)
    c = client(engine)
    huge = 2**63 + 1
    for path in (f"/deployments/{huge}", f"/records/company/{huge}", f"/records/company?offset={huge}"):
        r = c.get(path)
        assert r.status_code == 422, (path, r.status_code, r.text)
