"""「登记额度并通知」books the limit (issue 12, item 9): the shipped group credit approval's
`record_limit` step writes the approved amount as the group's unified facility through the
records service (dsl/kinds/record_action.py → engine/flow/record_write.py →
runtime/flows/booking.py), in the step's own transaction, once however often it runs, and a
refusal of the records service is a flow problem that leaves nothing written."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.flow.record_write import RecordWrite
from runtime.flows.booking import write_record
from runtime.flows.store import FlowError, load
from runtime.jobs.tables import changes
from runtime.records.service import Records
from runtime.storage.db import writing
from tests.engine.flow.test_shipped_flows import _reviews, credit

from .flow_bank import T0, make_bank
from .test_flow_service import CREDIT, act, reviews


# -- the engine plans the write ------------------------------------------------------------------
def test_the_engine_plans_the_booking_after_the_committee_approves():
    d = credit(8 * 10**8)
    _reviews(d)
    d.approve("committee", "m1", fields={"approved_amount": 6 * 10**8})
    assert not [e for e in d.effects if isinstance(e, RecordWrite)]
    d.approve("committee", "m2")
    d.approve("committee", "m3")
    assert d.outcome == ("finished", "approved")
    (w,) = [e for e in d.effects if isinstance(e, RecordWrite)]
    assert (w.entity, w.node) == ("facility", "record_limit")
    assert w.match["group"]["code"] == "G1" and (w.match["level"], w.match["status"]) == ("group_unified", "active")
    assert w.values["amount"] == 6 * 10**8 and w.values["product"] == "comprehensive"
    assert w.values["start_date"] == d.now.date() and w.values["expiry_date"].year == d.now.year + 1    # the 12-month term
    assert w.values["approving_branch"] == {"name": "bj_branch"}


def test_a_rejected_application_plans_no_booking():
    d = credit(8 * 10**8)
    _reviews(d)
    d.approve("committee", "m1", fields={"approved_amount": 6 * 10**8})
    d.reject("committee", "m3")
    assert d.outcome == ("finished", "rejected")
    assert not [e for e in d.effects if isinstance(e, RecordWrite)]


# -- the runtime writes it -----------------------------------------------------------------------
def to_committee(flows, amount=8 * 10**8):
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": amount, **CREDIT})
    v = reviews(flows, v)
    assert v["current_nodes"] == ["committee"]
    return act(flows, v, "approve", "committee", "m1", fields={"approved_amount": 6 * 10**8})


def unified(records):
    return records.query("facility", {"group": "G0001", "level": "group_unified"}).items


def test_the_committees_approval_books_the_groups_unified_limit(engine):
    flows = make_bank(engine)
    records = Records(engine)
    assert unified(records) == [] and records.find("group", "G0001")["unified_limit"] in (None, Decimal(0))
    v = to_committee(flows)
    v = act(flows, v, "approve", "committee", "m2")
    assert unified(records) == []                       # 2/3, but the veto holder has not voted
    v = act(flows, v, "approve", "committee", "m3")
    assert (v["status"], v["outcome"]) == ("finished", "approved")
    (f,) = unified(records)
    assert (f["facility_no"], f["amount"], f["status"], f["currency"]) == ("F000001", Decimal("600000000.00"),
                                                                          "active", "CNY")
    assert (f["approving_branch"], f["product"], f["start_date"]) == ("bj_branch", "comprehensive", T0.date())
    assert f["expiry_date"] == date(T0.year + 1, T0.month, T0.day)
    assert records.find("group", "G0001")["unified_limit"] == Decimal("600000000.00")
    with engine.connect() as conn:
        (row,) = conn.execute(sa.select(changes.c.actor, changes.c.source).where(changes.c.entity == "facility")).all()
    assert tuple(row) == ("flow:group_credit_approval", f"flow:{v['id']}")


def test_a_rejected_application_books_nothing(engine):
    flows = make_bank(engine)
    records = Records(engine)
    v = to_committee(flows)
    v = act(flows, v, "reject", "committee", "m3", comment="too concentrated")
    assert v["outcome"] == "rejected"
    assert unified(records) == [] and records.query("facility").total == 0


def test_a_second_approval_changes_the_groups_limit_not_a_second_facility(engine):
    flows = make_bank(engine)
    records = Records(engine)
    for amount in (Decimal("150000000"), Decimal("120000000")):
        v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 2 * 10**8, **CREDIT})
        v = act(flows, reviews(flows, v), "approve", "head_office_review", "ho_credit",
                fields={"approved_amount": amount})
        assert v["outcome"] == "approved"
        (f,) = unified(records)
        assert (f["facility_no"], f["amount"]) == ("F000001", amount)
    assert records.find("group", "G0001")["unified_limit"] == Decimal("120000000.00")


def test_the_booking_runs_again_without_writing_twice(engine):
    """The step run once more (a retry) finds the facility it wrote and changes nothing."""
    flows = make_bank(engine)
    records = Records(engine)
    v = to_committee(flows)
    act(flows, v, "approve", "committee", "m2")
    v = act(flows, load_view(flows, v), "approve", "committee", "m3")
    (f,) = unified(records)
    w = RecordWrite("facility", {"group": "G0001", "level": "group_unified", "status": "active"},
                    {"amount": Decimal("600000000"), "product": "comprehensive", "currency": "CNY",
                     "start_date": f["start_date"], "expiry_date": f["expiry_date"], "approving_branch": "bj_branch"},
                    "record_limit")
    with writing(engine) as conn:
        write_record(conn, records.refresh(), w, instance_id=v["id"], flow="group_credit_approval", initiator="rm")
    (again,) = unified(records)
    assert again["version"] == f["version"] and records.query("facility").total == 1


def load_view(flows, v):
    return flows.instance(v["id"], with_timeline=False)


def test_a_booking_the_records_service_refuses_is_a_flow_problem_and_writes_nothing(engine):
    flows = make_bank(engine)
    records = Records(engine)
    v = to_committee(flows)
    v = act(flows, v, "approve", "committee", "m2")
    # a second active unified facility for the group: the step cannot tell which one to change
    common = {"group": "G0001", "level": "group_unified", "status": "active", "product": "comprehensive",
              "amount": "1亿", "start_date": "2026-01-01", "expiry_date": "2027-01-01", "approving_branch": "bj_branch"}
    records.create("facility", {**common, "facility_no": "F000101"}, actor="test")
    records.create("facility", {**common, "facility_no": "F000102"}, actor="test")
    with pytest.raises(FlowError) as caught:
        act(flows, v, "approve", "committee", "m3")
    assert caught.value.code == "record_failed" and "record_limit" in caught.value.message
    assert "2 facility records match" in caught.value.message
    after = flows.instance(v["id"], with_timeline=False)
    assert (after["status"], after["version"]) == ("running", v["version"])        # the vote did not land
    assert {f["facility_no"]: f["amount"] for f in unified(records)} == {"F000101": Decimal("100000000.00"),
                                                                          "F000102": Decimal("100000000.00")}
    with engine.connect() as conn:
        assert load(conn, v["id"]).state.running
