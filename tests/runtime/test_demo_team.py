"""The demo people (examples/demo_bank/users.py) against the shipped flows and the demo bank.

Every role a shipped flow asks for has a holder where a Shanghai application looks for it: in
the Shanghai branch's subtree when the role can be held there, at the head office when it
cannot (head-office credit) or is bank-wide (credit committee, chief risk officer). Seeded into
a database with the demo bank, the Shanghai team's groups take their routes with Shanghai
people at every branch step (risk assessment included: no escalation to the CRO), and the
Beijing relationship manager cannot reach them.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from dsl.compiler import compile_path
from examples.demo_bank.users import DEMO_GRANTS, DEMO_USERS, seed_demo_users
from runtime.auth.org import OrgTree
from runtime.auth.users import PERMISSIONS, UserStore
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.flows.service import FlowError, FlowService
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
ROLE_CALL = re.compile(r"role\('(\w+)'(?:\s*,\s*([\w.]+))?\)")
YI = 10**8


def _tree() -> OrgTree:
    result = compile_path(str(ROOT / "configs"))
    assert result.ok
    return OrgTree(result.bundle)


TREE = _tree()
SHANGHAI = TREE.subtree("sh_branch")
HEAD_OFFICE = {"head_office"} | {u for u, unit in TREE.units.items()
                                 if unit.type == "department" and unit.parent == "head_office"}


def route_roles() -> dict[str, set[str | None]]:
    """Every role the shipped flows name: in `role(...)` (with its org-unit argument, None for the
    whole bank) and in lists of roles (the flow's fallback roles, vetoes, who is notified)."""
    out: dict[str, set[str | None]] = {}

    def walk(node, key=None) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                if key in ("roles", "veto") and isinstance(v, str):
                    out.setdefault(v, set()).add(None)
                else:
                    walk(v, key)
        elif isinstance(node, str):
            for role, unit in ROLE_CALL.findall(node):
                out.setdefault(role, set()).add(unit or None)
    for path in sorted((ROOT / "configs" / "flows").glob("*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8"))["spec"])
    return out


def holdings() -> list[tuple[str, str, str]]:
    """(user, role, unit held in; '' = bank-wide) for every demo person."""
    return [(name, role, unit if where is None else where)
            for name, _display, unit, _admin, roles in DEMO_USERS for role, where in roles]


def test_the_flows_roles_are_found():
    roles = route_roles()
    assert {"relationship_manager", "credit_officer", "branch_head", "risk_manager", "legal_compliance",
            "group_client_manager", "product_manager", "head_office_credit", "credit_committee",
            "chief_risk_officer"} <= set(roles)
    assert "subject.lead_branch" in roles["risk_manager"] and "subject.branch" in roles["legal_compliance"]


def test_every_role_on_the_flows_has_a_shanghai_or_a_head_office_holder():
    people = {name: unit for name, _d, unit, _a, _r in DEMO_USERS}
    for role in route_roles():
        spec = TREE.roles[role]
        held = {(user, unit) for user, r, unit in holdings() if r == role}
        if spec.scope == "global":          # bank-wide: held by someone at the head office
            assert any(people[user] in HEAD_OFFICE for user, _ in held), role
        elif any(TREE.role_allowed(role, u) is None for u in SHANGHAI):
            assert any(unit in SHANGHAI for _, unit in held), f"no Shanghai {role}"
        else:                               # held at the head office only (head-office credit)
            assert any(unit in HEAD_OFFICE for _, unit in held), role


def test_the_demo_people_are_valid():
    names = [name for name, *_ in DEMO_USERS]
    assert len(names) == len(set(names))
    assert {"admin", "rm_sh_01", "co_sh", "head_sh", "committee_1", "committee_2", "committee_3", "cro",
            "ho_credit", "risk_ho", "risk_sh", "legal_sh", "rm_bj_01"} <= set(names)
    for name, display, unit, _admin, roles in DEMO_USERS:
        assert unit in TREE.units and display.strip(), name
        for role, where in roles:
            assert TREE.role_allowed(role, where or unit) is None, (name, role)
    for role, perms in DEMO_GRANTS.items():
        assert role in TREE.roles and perms <= set(PERMISSIONS), role
    assert ("rm_bj_01", "relationship_manager", "bj_branch") in holdings()
    bank_wide = {r for r, spec in TREE.roles.items() if spec.scope == "global"}
    assert all(unit == "" and user in {n for n, _d, u, *_ in DEMO_USERS if u in HEAD_OFFICE}
               for user, role, unit in holdings() if role in bank_wide)


FORM = {"credit_type": "new", "term_months": 12, "products": ["working_capital"], "purpose": "集团年度流动资金",
        "guarantee_mode": "credit"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[FlowService]:
    """The smallest demo bank and the demo people, as `banyan seed demo` loads them (SQLite)."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('demo_team') / 'demo.db'}")
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    seed_demo(records, scale=0.01, seed=42, transactions=0, actor="test")
    made = seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
    assert made == [name for name, *_ in DEMO_USERS]
    yield FlowService(engine)
    engine.dispose()


def _only(view: dict, node: str) -> str:
    assert view["current_nodes"] == [node], view["current_nodes"]
    (task,) = [t for t in view["tasks"] if t["node"] == node]
    return task


def _run_to_the_route(flows: FlowService, group: str, amount: int) -> dict:
    v = flows.start("group_credit_approval", actor="rm_sh_01", subject=group, form={**FORM, "amount": amount})
    task = _only(v, "document_review")
    assert task["assignee"] == "co_sh"
    v = flows.act(v["id"], "complete", actor="co_sh", task=task["id"], fields={"review_opinion": "资料齐全"})
    task = _only(v, "risk_assessment")
    assert task["assignee"] == "risk_sh"                       # a Shanghai risk manager, not the CRO
    v = flows.act(v["id"], "complete", actor="risk_sh", task=task["id"],
                  fields={"risk_rating": "medium", "risk_opinion": "集团经营稳定"})
    task = _only(v, "branch_approval")
    assert task["assignee"] == "head_sh"
    return flows.act(v["id"], "approve", actor="head_sh", task=task["id"])


def test_the_shanghai_groups_take_the_committee_and_the_head_office_routes(demo):
    big = _run_to_the_route(demo, "G0002", 8 * YI)
    assert big["current_nodes"] == ["committee"]
    assert sorted(t["assignee"] for t in big["tasks"]) == ["committee_1", "committee_2", "committee_3", "cro"]
    small = _run_to_the_route(demo, "G0006", 3 * YI)
    assert small["current_nodes"] == ["head_office_review"]
    assert [t["assignee"] for t in small["tasks"]] == ["ho_credit"]


def test_a_shanghai_risk_disposal_finds_shanghai_people(demo):
    member = next(c for c in Records(demo.engine).query("company", {"group": "G0002"}, limit=500).items
                  if c["branch"] == "sh_branch")
    v = demo.start("major_risk_disposal", actor="risk_sh", subject=member["credit_code"],
                   form={"grade": "orange", "situation": "经营现金流连续两季为负"})
    task = _only(v, "assess")
    assert task["assignee"] == "risk_sh"
    v = demo.act(v["id"], "complete", actor="risk_sh", task=task["id"], fields={"situation": "现金流紧张"})
    assert {t["node"]: t["assignee"] for t in v["tasks"]} == {
        "risk_measures": "risk_sh", "client_contact": "rm_sh_01", "legal_review": "legal_sh"}


def test_the_beijing_manager_cannot_reach_the_shanghai_groups(demo):
    for group in ("G0002", "G0006"):
        with pytest.raises(FlowError) as caught:
            demo.start("group_credit_approval", actor="rm_bj_01", subject=group, form={**FORM, "amount": YI})
        assert caught.value.code == "not_found"


def test_the_demo_leaves_something_in_every_approvers_inbox(tmp_path):
    """`banyan seed demo` leaves applications at each step of the credit approval: every person on
    its route has a task waiting, and the relationship manager sees what they started."""
    from click.testing import CliRunner

    from runtime.cli.main import main
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    r = CliRunner().invoke(main, ["seed", "demo", "--scale", "0.01", "--path", str(ROOT / "configs")],
                           env={"BANYAN_DATABASE_URL": url})
    assert r.exit_code == 0, r.output
    assert r.output.count("in flight: group_credit_approval") == 5 and "8亿 at committee" in r.output
    engine = make_engine(url)
    flows = FlowService(engine)
    for person in ("co_sh", "risk_sh", "head_sh", "ho_credit", "committee_1", "committee_2", "committee_3", "cro"):
        assert flows.inbox(person, "mine")["total"] >= 1, person
    assert flows.started("rm_sh_01", limit=0)["total"] == 5
    engine.dispose()
