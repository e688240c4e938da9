"""Events are not a back door (issue 12, item 7): only the system and the holders of the roles a
flow names post an event to an instance by hand (runtime/flows/senders.py, asked by FlowService.act
for every door). An actor nobody knows, or a person who may not see the instance, gets
exactly the 404 of an unknown instance; a person who may see it, a 403 in words."""
from __future__ import annotations

from fastapi.testclient import TestClient

from runtime.http.app import create_app

from .flow_bank import company_key, make_bank


def act(flows, view: dict, action: str, node: str, user: str, **kw) -> dict:
    task = next(t["id"] for t in view["tasks"] if t["node"] == node)
    return flows.act(view["id"], action, actor=user, task=task, **kw)


def at_monitor(flows) -> dict:
    """A major-risk disposal (roles: [chief_risk_officer], held by m3) waiting at `monitor` for
    `financials.updated`."""
    v = flows.start("major_risk_disposal", actor="risk", subject=company_key("C2"),
                    form={"grade": "orange", "situation": "cash flow negative"})
    v = act(flows, v, "complete", "assess", "risk", fields={"situation": "confirmed"})
    v = act(flows, v, "complete", "risk_measures", "risk")
    v = act(flows, v, "complete", "client_contact", "rm", fields={"client_contact_note": "met CFO"})
    v = act(flows, v, "complete", "legal_review", "legal_ho")
    v = act(flows, v, "approve", "close_review", "head")
    assert v["current_nodes"] == ["monitor"]
    return v


def post(client, instance: str, actor: str):
    return client.post(f"/flow-instances/{instance}/event", json={"event": "financials.updated"},
                       headers={"X-Banyan-Actor": actor})


def test_only_the_system_and_the_flows_roles_post_events(engine):
    flows = make_bank(engine)
    v = at_monitor(flows)
    client = TestClient(create_app(engine))
    nobody = post(client, "a0a0a0a0a0a0", "risk")
    assert nobody.status_code == 404
    unknown = {**nobody.json(), "message": nobody.json()["message"].replace("a0a0a0a0a0a0", v["id"])}
    for actor in ("stranger", "gcm"):         # unknown to the bank; a person not involved, without scope
        r = post(client, v["id"], actor)
        assert (r.status_code, r.json()) == (404, unknown), actor
    seen = post(client, v["id"], "risk")       # the initiator sees the instance, may not post its events
    assert seen.status_code == 403 and seen.json()["error"] == "not_event_sender"
    assert "chief_risk_officer" in seen.json()["message"] or "角色" in seen.json()["message"]
    after = flows.instance(v["id"], with_timeline=False)
    assert (after["version"], after["current_nodes"]) == (v["version"], ["monitor"])      # nothing moved
    ok = post(client, v["id"], "m3")           # holds chief_risk_officer, a role the flow names
    assert ok.status_code == 200, ok.json()
    assert (ok.json()["status"], ok.json()["outcome"]) == ("finished", "resolved")


def test_the_system_may_post_an_event(engine):
    flows = make_bank(engine)
    v = at_monitor(flows)
    r = post(TestClient(create_app(engine)), v["id"], "system")
    assert r.status_code == 200 and r.json()["outcome"] == "resolved"


def test_the_cli_and_the_service_refuse_the_same_senders(engine, db_url):
    """The check is the service's: `banyan flow act ID event` and FlowService.act meet it too."""
    import json

    import pytest
    from click.testing import CliRunner

    from runtime.cli.main import main
    from runtime.flows.store import FlowError
    flows = make_bank(engine)
    v = at_monitor(flows)
    r = CliRunner().invoke(main, ["flow", "act", v["id"], "event", "--as", "stranger", "--format", "json",
                                  "--text", "financials.updated"], env={"BANYAN_DATABASE_URL": db_url})
    assert r.exit_code == 1 and json.loads(r.stdout)["error"] == "not_found", r.output
    with pytest.raises(FlowError) as refused:
        flows.act(v["id"], "event", actor="risk", event="financials.updated")
    assert refused.value.code == "not_event_sender" and refused.value.status == 403
    assert flows.instance(v["id"], with_timeline=False)["current_nodes"] == ["monitor"]
