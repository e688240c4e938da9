"""The JSON API answers from the thread its endpoint ran in (runtime/http/routes.py): FastAPI
would otherwise check a `def` endpoint's data against its return annotation in a second trip to
the threadpool, and encode it on the event loop, for every request. The answers are the same."""
from __future__ import annotations

import fastapi.routing
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from runtime.http.app import DOC_ORDER, create_app
from runtime.http.errors import BanyanJSON
from runtime.http.routes import JsonRoute

from .flow_bank import make_bank

FORM = {"project_name": "Acme 2026", "products": ["credit"], "target_revenue": 10**6,
        "start_date": "2026-04-01", "end_date": "2026-12-31",
        "participants": [{"org_unit": "bj_branch", "lead": True, "share": "60%"},
                         {"org_unit": "sh_branch", "lead": False, "share": 40}]}


def _routes(routes) -> list[APIRoute]:
    """Every endpoint route, into the included routers."""
    found: list[APIRoute] = []
    for r in routes:
        if isinstance(r, APIRoute):
            found.append(r)
        elif hasattr(r, "original_router"):             # FastAPI's included router
            found += _routes(r.original_router.routes)
    return found


def test_every_route_of_the_api_is_a_json_route(engine):
    routes = _routes(create_app(engine).routes)
    assert len(routes) > 30
    assert [r.path for r in routes if not isinstance(r, JsonRoute)] == []


def test_a_flow_command_takes_one_trip_to_the_threadpool_and_answers_the_instance(engine, monkeypatch):
    make_bank(engine)
    api = TestClient(create_app(engine))
    r = api.post("/flows/joint_marketing/instances", json={"subject": "G0001", "form": FORM},
                 headers={"X-Banyan-Actor": "gcm"})
    assert r.status_code == 201, r.json()               # the route's status code, from the wrapped endpoint
    view = r.json()
    task = next(t["id"] for t in view["tasks"] if t["node"] == "initiation")
    trips: list[str] = []
    real = fastapi.routing.run_in_threadpool

    async def counted(func, *args, **kwargs):
        trips.append(getattr(func, "__name__", repr(func)))
        return await real(func, *args, **kwargs)
    monkeypatch.setattr(fastapi.routing, "run_in_threadpool", counted)
    r = api.post(f"/flow-instances/{view['id']}/approve", json={"task": task}, headers={"X-Banyan-Actor": "head"})
    assert r.status_code == 200, r.json()
    assert r.headers["content-type"] == "application/json"
    assert len(trips) == 1, trips                        # the endpoint; not a second one to check its answer
    after = r.json()
    assert after["version"] == view["version"] + 1 and after["id"] == view["id"]
    assert [p["share"] for p in after["form"]["participants"]] == ["60", "40"]
    monkeypatch.undo()
    read = api.get(f"/flow-instances/{view['id']}").json()      # the read adds the opinions and the timeline
    assert {k: read[k] for k in after} == after


def test_an_error_inside_a_wrapped_endpoint_is_the_apis_error(engine):
    make_bank(engine)
    api = TestClient(create_app(engine))
    view = api.post("/flows/joint_marketing/instances", json={"subject": "G0001", "form": FORM},
                    headers={"X-Banyan-Actor": "gcm"}).json()
    r = api.post("/flow-instances/nope/approve", json={"task": "x"}, headers={"X-Banyan-Actor": "head"})
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    created = api.post("/records/group", json={"code": "G0009", "name": "nine", "industry": "manufacturing", "lead_branch": "sh_branch", "recognized_on": "2020-01-01"}, headers={"X-Banyan-Actor": "api"})
    assert created.status_code == 201 and created.json()["code"] == "G0009"
    # one spelling of a UTC time at every door: the records' as the flows' and the CLI's (isoformat)
    assert created.json()["created_at"].endswith("+00:00") and view["started_at"].endswith("+00:00")
    gone = api.delete(f"/records/group/{created.json()['id']}", headers={"X-Banyan-Actor": "api"})
    assert (gone.status_code, gone.content) == (204, b"")
    again = api.delete(f"/records/group/{created.json()['id']}", headers={"X-Banyan-Actor": "api"})
    assert again.status_code == 404 and again.json()["error"]


def test_the_docs_keep_their_section_order_whatever_the_route_order(engine):
    """The flow routes are matched first; /docs still shows records first, and every section used
    is in the declared order (a new router's tag added to DOC_ORDER, not tacked on at the end)."""
    doc = TestClient(create_app(engine)).get("/openapi.json").json()
    used = {tag for ops in doc["paths"].values() for op in ops.values() for tag in op.get("tags", [])}
    assert [t["name"] for t in doc["tags"]] == list(DOC_ORDER)
    assert used <= set(DOC_ORDER), used - set(DOC_ORDER)


def test_a_float_that_is_not_a_number_goes_out_as_null():
    """JSON has no NaN or infinity: FastAPI's encoder wrote null, and so does the API's one encoder
    now that the endpoints answer with it."""
    body = BanyanJSON({"a": float("nan"), "b": [1.5, float("inf")], "c": {"d": -float("inf")}, "e": "文"}).body
    assert body == '{"a":null,"b":[1.5,null],"c":{"d":null},"e":"文"}'.encode()
    assert BanyanJSON({"x": 0.1}).body == b'{"x":0.1}'
