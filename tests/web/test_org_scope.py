"""Issue 9's findings, each reproduced as the Shanghai relationship manager rm_sh_01 against firms and
groups of other branches: writes decided on the normalised values, reads that reveal nothing,
idempotency keys that are each person's own, and the flow service's subject check."""
from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from openpyxl import Workbook

from runtime.auth.org import OrgTree
from runtime.auth.scope import placement_of, scope_for
from runtime.auth.users import UserStore
from runtime.flows.service import FlowService
from runtime.flows.store import FlowError
from runtime.records.service import Records

from .conftest import csrf_of, signed_in


def token_of(client: TestClient) -> dict:
    page = client.get("/ui/me")
    r = client.post("/ui/me", data={"csrf_token": csrf_of(page.text), "action": "token", "label": "t"})
    return {"Authorization": "Bearer " + r.text.split('<code class="token">')[1].split("<")[0]}


@pytest.fixture(scope="module")
def bank(engine):
    """Bank-wide facts to aim at: Shanghai's units, an in-scope and an invisible company, groups."""
    records = Records(engine)
    live = records.live
    tree = OrgTree(live.bundle)
    sh = tree.subtree("sh_branch")
    c, g = live.table("company"), live.table("group")
    with engine.connect() as conn:
        companies = conn.execute(sa.select(c.c.id, c.c.credit_code, c.c.branch, c.c.group)).all()
        groups = conn.execute(sa.select(g.c.id, g.c.code, g.c.lead_branch)).all()
    served = {grp for _, _, branch, grp in companies if branch in sh}
    rm = scope_for(tree, UserStore(engine).get("rm_sh_01"))
    readable = records.keys_within("company", rm)
    mine = next(row for row in companies if row.branch in sh)
    hidden = next(row for row in companies if row.credit_code not in readable)
    co_served = next((row for row in groups if row.lead_branch not in sh and row.id in served), None)
    unserved = next(row for row in groups if row.lead_branch not in sh and row.id not in served)
    return {"mine": mine, "hidden": hidden, "co_served": co_served, "unserved": unserved, "sh": sh}


def rating(company, no: str) -> dict:
    return {"rating_no": no, "subject_type": "company", "company": company, "source": "internal",
            "grade": "a", "notch": 6, "rated_on": "2026-06-30"}


def ratings_of(admin_api, company_key: str) -> int:
    return admin_api.get(f"/records/rating?company={company_key}&limit=1").json()["total"]


# -- 1. writes are decided on the normalised values ------------------------------------------------
@pytest.mark.parametrize("how", ["padded key", "float id", "int id", "exact key"])
def test_a_rating_cannot_be_placed_in_another_branch(app, rm, admin, bank, how):
    hidden = bank["hidden"]
    company, made_up = {"padded key": (f" {hidden.credit_code} ", " 91310000000000000X "),
                        "float id": (float(hidden.id), 999999999.0), "int id": (hidden.id, 999999999),
                        "exact key": (hidden.credit_code, "91310000000000000X")}[how]
    shown = {"padded key": hidden.credit_code, "exact key": hidden.credit_code}.get(how, hidden.id)
    bare, mine, everything = TestClient(app), token_of(rm), token_of(admin)
    admin_api = TestClient(app, headers=everything)
    before = ratings_of(admin_api, hidden.credit_code)
    number = "R99" + str(["padded key", "float id", "int id", "exact key"].index(how)).zfill(4)
    r = bare.post("/records/rating", json=rating(company, number), headers=mine)
    unknown = bare.post("/records/rating", json=rating(made_up, number), headers=mine)
    assert r.status_code == unknown.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["company"]
    # the very answer a made-up key gets: nothing says the firm is another branch's client
    same = json.loads(unknown.text.replace(str(made_up).strip().removesuffix(".0"), str(shown)))
    assert r.json() == same
    assert ratings_of(admin_api, hidden.credit_code) == before


def test_a_record_placed_by_what_one_may_only_read_is_outside_the_scope(app, rm, bank):
    if bank["co_served"] is None:
        pytest.skip("no group of another branch with a Shanghai member at this scale")
    api = TestClient(app, headers=token_of(rm))
    code = api.get(f"/records/group/{bank['co_served'].id}").json()["code"]
    r = api.post("/records/rating", json={**rating(None, "R999500"), "subject_type": "group", "group": code})
    assert r.status_code == 422 and r.json()["detail"][0] == {"loc": ["group"], "msg": "outside your org scope",
                                                              "type": "scope"}


def test_a_padded_key_of_ones_own_client_is_normalised_and_accepted(app, rm, admin, bank):
    mine = bank["mine"]
    r = TestClient(app).post("/records/rating", json=rating(f"  {mine.credit_code}\t", "R999001"), headers=token_of(rm))
    assert r.status_code == 201, r.text
    assert r.json()["company"] == mine.credit_code


@pytest.mark.parametrize("value", [["x"], {"credit_code": "x"}, 150.5, True])
def test_a_value_that_cannot_be_a_reference_is_a_422(app, rm, value):
    r = TestClient(app).post("/records/rating", json=rating(value, "R999002"), headers=token_of(rm))
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["company"]


def test_an_xlsx_import_with_a_numeric_company_cell_stays_in_scope(app, rm, admin, bank):
    hidden = bank["hidden"]
    wb = Workbook()
    ws = wb.active
    ws.append(["rating_no", "subject_type", "company", "source", "grade", "notch", "rated_on"])
    ws.append(["R999100", "company", hidden.id, "internal", "a", 6, "2026-06-30"])           # the number, not a key
    buf = io.BytesIO()
    wb.save(buf)
    admin_api = TestClient(app, headers=token_of(admin))
    before = ratings_of(admin_api, hidden.credit_code)
    page = rm.get("/ui/e/rating/import")
    r = rm.post("/ui/e/rating/import", data={"csrf_token": csrf_of(page.text)},
                files={"file": ("r.xlsx", buf.getvalue(), "application/octet-stream")})
    assert r.status_code == 422 and "<tr><td>2</td><td>company</td>" in r.text
    assert ratings_of(admin_api, hidden.credit_code) == before


def test_a_record_cannot_be_moved_out_of_scope_or_changed_from_outside(app, rm, admin, bank):
    mine, hidden = bank["mine"], bank["hidden"]
    api = TestClient(app, headers=token_of(rm))
    created = api.post("/records/rating", json=rating(mine.credit_code, "R999200")).json()
    r = api.patch(f"/records/rating/{created['id']}", json={"company": hidden.credit_code})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "reference"     # as if it did not exist
    assert api.get(f"/records/rating/{created['id']}").json()["company"] == mine.credit_code
    assert api.patch(f"/records/company/{hidden.id}", json={"address": "x"}).status_code == 404
    assert api.delete(f"/records/company/{hidden.id}").status_code == 403          # an RM deletes nothing anywhere
    head = TestClient(app, headers=token_of(signed_in(app, "head_sh")))
    assert head.delete(f"/records/company/{hidden.id}").status_code == 404
    assert head.delete("/records/company/999999999").status_code == 404


# -- 2. reads reveal nothing -------------------------------------------------------------------
def test_a_key_page_is_the_same_404_for_hidden_and_unknown(rm, bank):
    hidden = rm.get(f"/ui/e/company/key/{bank['hidden'].credit_code}", follow_redirects=False)
    unknown = rm.get("/ui/e/company/key/91310000000000000X", follow_redirects=False)
    assert hidden.status_code == unknown.status_code == 404
    assert rm.get(f"/ui/e/company/key/{bank['mine'].credit_code}", follow_redirects=False).status_code == 303


def test_deployments_need_the_permission_at_every_door(app, rm, admin):
    api = TestClient(app, headers=token_of(rm))
    assert api.get("/deployments").status_code == 403
    assert api.get("/deployments/1").status_code == 403
    assert rm.get("/ui/deployments").status_code == 403
    assert TestClient(app, headers=token_of(admin)).get("/deployments").status_code == 200


def test_a_group_of_another_branch_is_read_only_where_a_member_is_served(app, rm, bank):
    api = TestClient(app, headers=token_of(rm))
    assert api.get(f"/records/group/{bank['unserved'].id}").status_code == 404
    if bank["co_served"] is None:
        pytest.skip("no group of another branch with a Shanghai member at this scale")
    gid = bank["co_served"].id
    read = api.get(f"/records/group/{gid}")
    assert read.status_code == 200
    # its figures over every member are another branch's business: blank for a co-serving branch
    everything = TestClient(app, headers=token_of(signed_in(app, "admin"))).get(f"/records/group/{gid}").json()
    assert everything["total_credit_balance"] is not None and everything["member_count"] > 0
    assert read.json()["total_credit_balance"] is None and read.json()["limit_usage"] is None
    assert read.json()["member_count"] is None and read.json()["name"] == everything["name"]
    r = api.patch(f"/records/group/{gid}", json={"status": "active"})
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    page = rm.get(f"/ui/e/group/{gid}")
    assert page.status_code == 200 and f"/ui/e/group/{gid}/edit" not in page.text
    assert rm.get(f"/ui/e/group/{gid}/edit").status_code == 403


def test_the_flow_graph_guard_checks_every_instance_parameter(app, engine, bank):
    service = FlowService(engine)
    records = Records(engine)
    code = records.get("group", bank["unserved"].id)["code"]
    form = {"amount": "1亿", "term_months": 12, "products": ["working_capital"], "purpose": "测试",
            "guarantee_mode": "credit"}
    lead = bank["unserved"].lead_branch                    # that branch's own RM starts it
    users = UserStore(engine)
    if users.get("rm_elsewhere") is None:
        users.save("rm_elsewhere", display_name="外行客户经理", org_unit=lead, password="A-long-enough-1",
                   is_admin=False, roles=[("relationship_manager", lead)], tree=OrgTree(records.live.bundle), new=True)
    started = service.start("group_credit_approval", actor="rm_elsewhere", subject=code, form=form)
    rm = signed_in(app, "rm_sh_01")
    api = rm
    base = "/flows/group_credit_approval/graph.svg"
    assert api.get(f"{base}?instance={started['id']}").status_code == 404
    assert api.get(f"{base}?instance=nonexistent&instance={started['id']}").status_code == 404
    assert api.get(f"{base}?instance={started['id']}&instance=nonexistent").status_code == 404


@pytest.mark.parametrize("which", ["unserved", "co_served"])
def test_the_flow_service_starts_only_about_a_subject_in_scope(engine, bank, which):
    if bank[which] is None:
        pytest.skip("no such group at this scale")
    code = Records(engine).get("group", bank[which].id)["code"]     # a co-serving branch reads it, not applies
    with pytest.raises(FlowError) as caught:
        FlowService(engine).start("group_credit_approval", actor="rm_sh_01", subject=code,
                                  form={"amount": "1亿", "term_months": 12, "products": ["working_capital"],
                                        "purpose": "测试", "guarantee_mode": "credit"})
    assert caught.value.code == "not_found" and "rm_sh_01" not in str(caught.value)
    with pytest.raises(FlowError) as caught:                   # nor previews who would approve it
        FlowService(engine).preview("group_credit_approval", actor="rm_sh_01", subject=code, form={})
    assert caught.value.code == "not_found"


# -- 3. idempotency keys are each person's own ---------------------------------------------------------
def test_another_persons_idempotency_key_neither_replays_nor_drops(app, rm, bank):
    mine = bank["mine"]
    head = signed_in(app, "head_sh")
    first = TestClient(app, headers={**token_of(rm), "Idempotency-Key": "k-shared-1"})
    second = TestClient(app, headers={**token_of(head), "Idempotency-Key": "k-shared-1"})
    a = first.post("/records/rating", json=rating(mine.credit_code, "R999300"))
    b = second.post("/records/rating", json=rating(mine.credit_code, "R999301"))
    assert a.status_code == b.status_code == 201
    assert a.json()["rating_no"] == "R999300" and b.json()["rating_no"] == "R999301"       # both created
    again = first.post("/records/rating", json=rating(mine.credit_code, "R999300"))
    assert again.status_code == 201 and again.json()["id"] == a.json()["id"]           # a retry replays
    reused = first.post("/records/rating", json=rating(mine.credit_code, "R999302"))
    assert reused.status_code == 409
    assert "head_sh" not in reused.text and "R999301" not in reused.text


def test_flow_request_ids_are_each_persons_own(engine):
    from runtime.flows.service import _replay
    from runtime.flows.tables import requests
    from runtime.storage.db import writing
    with writing(engine) as conn:
        conn.execute(requests.insert().values(actor="someone", request_id="f-1", command="start x G1",
                                              instance_id="abc", response="{}", at=sa.func.current_timestamp()))
        assert _replay(conn, "f-1", "rm_sh_01", "start x G2", {}) is None
        with pytest.raises(FlowError) as caught:
            _replay(conn, "f-1", "someone", "start x G2", {})
        assert "someone" not in str(caught.value) and caught.value.code == "request_reused"
        conn.execute(requests.delete().where(requests.c.request_id == "f-1"))


def test_placement_is_derived_from_the_entities(engine):
    placement = placement_of(Records(engine).live)
    assert [a.field for a in placement.of("guarantee").anchors] == ["guarantor", "borrower", "loan"]
    assert [a.field for a in placement.of("group").anchors] == ["lead_branch"]
    assert {(r.entity, r.field) for r in placement.of("group").referrers} >= {("company", "group")}
    assert {(r.entity, r.field) for r in placement.of("person").referrers} >= {("company", "legal_representative")}


# -- the CLI is a door too ----------------------------------------------------------------------------
def cli(demo_url, *args):
    from click.testing import CliRunner

    from runtime.cli.main import main
    return CliRunner().invoke(main, list(args), env={"BANYAN_DATABASE_URL": demo_url, "BANYAN_ACTOR": "operator"})


def test_the_cli_acts_as_a_user_with_their_scope(demo_url, bank):
    hidden, mine = bank["hidden"], bank["mine"]
    mine_list = cli(demo_url, "records", "list", "company", "--as", "rm_sh_01", "--json", "--limit", "10000")
    keys = {json.loads(line)["credit_code"] for line in mine_list.output.splitlines()}
    assert mine.credit_code in keys and hidden.credit_code not in keys
    everything = cli(demo_url, "records", "list", "company", "--json", "--limit", "10000")    # the operator
    assert hidden.credit_code in everything.output
    got = cli(demo_url, "records", "get", "company", hidden.credit_code, "--as", "rm_sh_01")
    unknown = cli(demo_url, "records", "get", "company", "91310000000000000X", "--as", "rm_sh_01")
    assert got.exit_code == unknown.exit_code == 1
    assert got.output.replace(hidden.credit_code, "K") == unknown.output.replace("91310000000000000X", "K")
    r = cli(demo_url, "records", "create", "rating", "--as", "rm_sh_01", "--json",
            json.dumps(rating(hidden.credit_code, "R999600")))
    made_up = cli(demo_url, "records", "create", "rating", "--as", "rm_sh_01", "--json",
                  json.dumps(rating("91310000000000000X", "R999601")))
    # an out-of-scope company reads exactly like a made-up one (neither key nor name is found)
    assert r.exit_code == made_up.exit_code == 1 and hidden.credit_code in r.output
    assert r.output.replace(hidden.credit_code, "K") == made_up.output.replace("91310000000000000X", "K")
    assert cli(demo_url, "records", "delete", "company", str(mine.id), "--as", "rm_sh_01").exit_code == 2  # no right
    assert "no active user `nobody`" in cli(demo_url, "records", "list", "company", "--as", "nobody").output


@pytest.mark.parametrize("value", ["abc", "1.5", "99999999999999999999999", "-1"])
def test_an_id_filter_that_is_no_record_number_is_a_422(app, rm, value):
    r = TestClient(app, headers=token_of(rm)).get(f"/records/company?id={value}")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["id"]


def test_numbers_beyond_64_bits_name_no_record(app, rm, demo_url):
    """Issue 16, part 11: a 23-digit search and an oversized id were OverflowErrors on SQLite."""
    big = "9" * 23
    assert rm.get(f"/ui/e/company?q={big}").status_code == 200
    assert rm.get(f"/ui/lookup/company?q={big}").status_code == 200
    r = cli(demo_url, "records", "get", "company", big)
    assert r.exit_code == 1 and f"no company record #{big}" in r.output and "Traceback" not in r.output
