"""A tier's promised response time (`response_within`) as the deadline of a client's service
request (SQLite and PostgreSQL): the shipped matrix names `cross_branch_service`'s `coordinate`
step (`service_requests`), so a member of a strategic-core group asking for service is due within
4 hours, one of a stable-cooperation group within 2 business days, and a company in no tiered
group gets the step's own day."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from runtime.flows.service import FlowService
from runtime.flows.tables import tasks
from runtime.tiering.service import TieringService

from .demo_db import demo_bank

MORNING = datetime(2026, 7, 1, 1, 0, tzinfo=timezone.utc)        # 09:00 in Shanghai, a Wednesday
FORM = {"service_type": "cash_management", "description": "现金管理方案", "needed_by": "2026-07-31"}


@pytest.fixture
def bank(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine, records = demo_bank(db_url, scale=0.03, people=True)
    TieringService(engine, records=records, clock=lambda: MORNING).run()
    yield engine, records
    engine.dispose()


def _coordinate_due(engine, flows: FlowService, company: str) -> datetime:
    with engine.begin() as conn:
        instance, _joined = flows.start_within(conn, "cross_branch_service", actor="system", subject=company,
                                               form=FORM, now=MORNING)
    with engine.connect() as conn:
        (due,) = conn.execute(sa.select(tasks.c.due_at).where(tasks.c.instance_id == instance,
                                                             tasks.c.node == "coordinate")).one()
    return due if due.tzinfo else due.replace(tzinfo=timezone.utc)


def test_a_service_request_is_due_within_the_tier_s_promise(bank):
    engine, records = bank
    flows = FlowService(engine, clock=lambda: MORNING)
    tiers = {g["code"]: g["tier"] for g in records.iter_all("group")}
    served = _served_groups(engine)                    # lead branches with a group client manager
    members: dict[str, tuple[str, str]] = {}
    for c in records.iter_all("company"):
        if c.get("group") in served:
            members.setdefault(tiers[c["group"]], (c["credit_code"], c["group"]))
    assert {"stable_cooperation", "opportunity_adjustment"} <= set(members), members.keys()
    cal = flows.calendar
    own = cal.add(MORNING, 1, "business_days")                      # the step's own deadline
    stable = cal.add(MORNING, 2, "business_days")
    assert stable != own
    company, group = members["stable_cooperation"]
    assert _coordinate_due(engine, flows, company) == stable
    t = records.refresh().table("group")
    other, core = members["opportunity_adjustment"]
    with engine.begin() as conn:                       # as an approved override would leave it: strategic core
        conn.execute(t.update().where(t.c.code == core).values(tier="strategic_core"))
    assert _coordinate_due(engine, flows, other) == cal.add(MORNING, 4, "hours")
    with engine.begin() as conn:                       # the group untiered: no promise, the step's own day
        conn.execute(t.update().where(t.c.code == group).values(tier=None))
    assert _coordinate_due(engine, flows, company) == own


def _served_groups(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.exec_driver_sql(
            "SELECT g.code FROM e_group g JOIN banyan_flow_role_holders h ON h.org_unit = g.lead_branch "
            "WHERE h.role = 'group_client_manager'").scalars())
