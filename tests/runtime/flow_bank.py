"""A small bank for the flow runtime tests: the shipped configs deployed, a group and two of its
companies, and the people of the shipped-flow engine tests loaded into the flow directory."""
from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone

from dsl.compiler import compile_path
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.flows.directory import put_people
from runtime.flows.service import FlowService
from runtime.records.service import Records
from runtime.storage.db import writing

ROLES = {"relationship_manager": {"bj_branch": ["rm"], "sh_branch": ["rm_sh"]},
         "credit_officer": {"bj_branch": ["officer"]}, "risk_manager": {"bj_branch": ["risk"], None: ["risk_ho"]},
         "branch_head": {"bj_branch": ["head"], "sh_branch": ["head_sh"]},
         "head_office_credit": {None: ["ho_credit"]}, "credit_committee": {None: ["m1", "m2", "m3"]},
         "chief_risk_officer": {None: ["m3"]}, "group_client_manager": {"bj_branch": ["gcm"]},
         "product_manager": {None: ["pm1", "pm2"]}, "legal_compliance": {None: ["legal_ho"]}}
SUPERVISORS = {"rm": "head"}
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))     # a Monday in Beijing


@functools.lru_cache(maxsize=None)
def bundle(path: str = "configs"):
    result = compile_path(path)
    assert result.ok
    return result.bundle


class Clock:
    def __init__(self, start: datetime = T0):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **delta) -> datetime:
        self.now += timedelta(**delta) if delta else timedelta(minutes=1)
        return self.now


def make_bank(engine, clock: Clock | None = None) -> FlowService:
    """Deploy configs, create group G0001 (lead branch bj_branch) with companies C1 (sh_branch)
    and C2 (bj_branch), load the people; a FlowService on a test clock."""
    DeploymentRegistry(engine).deploy(release_of(bundle()), author="test", message="flows")
    records = Records(engine)
    records.create("group", {"code": "G0001", "name": "Acme Group", "industry": "manufacturing",
                             "lead_branch": "bj_branch", "recognized_on": "2020-01-01",
                             "tier": "stable_cooperation"}, actor="test")
    for code, branch in (("C1", "sh_branch"), ("C2", "bj_branch")):
        records.create("company", company(code, branch), actor="test")
    # the bank's capital, which the credit route's concentration limits divide by
    records.create("bank_capital", {"period": "2019Q4", "effective_on": "2019-12-31", "net_capital": "300亿",
                                    "tier1_capital": "240亿"}, actor="test")
    users = sorted({u for units in ROLES.values() for us in units.values() for u in us})
    with writing(engine) as conn:
        put_people(conn, [{"name": u, "supervisor": SUPERVISORS.get(u), "email": f"{u}@bank.test"} for u in users],
                   [{"user": u, "role": r, "org_unit": unit} for r, units in ROLES.items()
                    for unit, us in units.items() for u in us])
    return FlowService(engine, clock=clock or Clock())


@functools.lru_cache(maxsize=None)
def _demo_companies() -> tuple:
    from examples.demo_bank import generate
    return tuple(generate(scale=0.01, seed=7, transactions=0).records["company"][:2])


def company_key(code: str) -> str:
    """The credit code (the company key) of test company C1 or C2."""
    return _demo_companies()[int(code[1:]) - 1]["credit_code"]


def company(code: str, branch: str) -> dict:
    """A valid company (a demo-bank one, with a real credit-code checksum) in G0001 at `branch`;
    `code` picks which: C1 or C2."""
    base = _demo_companies()[int(code[1:]) - 1]
    return {**base, "name": f"Acme {code}", "group": "G0001", "branch": branch, "legal_representative": None,
            "relationship_manager": None}
