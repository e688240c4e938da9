"""The records service: typed values, every rule, references, computed fields, concurrency."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from runtime.records.errors import InvalidRecord, NotFound, VersionConflict

from .records_bundle import deploy


def problems(exc):
    return {(tuple(p.path), p.code) for p in exc.value.problems}


def test_create_read_update_delete(engine):
    recs = deploy(engine)
    g = recs.create("group", {"code": "G1", "name": "Group one"}, actor="alice")
    c = recs.create("company", {"code": "C100", "name": "Acme", "group": "G1", "capital": "1,000.50",
                                "debt": 500, "employees": "12", "founded": "2001-02-03"}, actor="alice")
    assert c["group"] == "G1" and c["capital"] == Decimal("1000.50") and c["employees"] == 12
    assert c["founded"] == date(2001, 2, 3) and c["listed"] is False and c["size"] == "small"
    assert c["version"] == 1 and c["debt_ratio"] == Decimal("0.499750")
    assert recs.get("group", g["id"])["member_count"] == 1
    assert recs.get("group", g["id"])["total_capital"] == Decimal("1000.50")
    up = recs.update("company", c["id"], {"capital": 2000}, actor="bob", expected_version=1)
    assert up["version"] == 2 and up["debt_ratio"] == Decimal("0.25")
    assert recs.find("group", "G1")["total_capital"] == Decimal("2000")
    with pytest.raises(VersionConflict):
        recs.update("company", c["id"], {"capital": 3000}, actor="bob", expected_version=1)
    with pytest.raises(VersionConflict, match="still referenced"):
        recs.delete("group", g["id"], actor="bob")
    recs.delete("company", c["id"], actor="bob", expected_version=2)
    with pytest.raises(NotFound):
        recs.get("company", c["id"])
    assert recs.get("group", g["id"])["member_count"] == 0


def test_every_rule_is_checked_and_reported_together(engine):
    recs = deploy(engine)
    with pytest.raises(InvalidRecord) as exc:
        recs.create("company", {"code": "X1", "capital": "abc", "employees": 0, "listed": "yes",
                                "size": "huge", "group": "NOPE", "colour": "red", "debt_ratio": 1}, actor="a")
    found = problems(exc)
    # a value that cannot be read carries its converter's code (dsl/values: `number`, `choice`)
    unread = {(path, code) for path, code in found if path in (("capital",), ("size",))}
    assert {path for path, _ in unread} == {("capital",), ("size",)}
    assert found - unread == {        # one problem per field: the first rule it breaks
        (("code",), "min_length"), (("name",), "required"), (("employees",), "min"),
        (("ticker",), "required"), (("group",), "reference"), (("colour",), "unknown_field"),
        (("debt_ratio",), "read_only")}
    assert recs.query("company").total == 0


def test_entity_validations_and_unique(engine):
    recs = deploy(engine)
    recs.create("company", {"code": "C100", "name": "A", "capital": 1, "debt": 5}, actor="a")
    with pytest.raises(InvalidRecord) as exc:
        recs.create("company", {"code": "C100", "name": "B", "capital": 1, "debt": 50}, actor="a")
    assert problems(exc) == {(("code",), "unique"), (("debt",), "validation")}
    assert "ten times" in str(exc.value)


def test_bulk_create_is_all_or_nothing_with_row_numbers(engine):
    recs = deploy(engine)
    rows = [{"code": f"C{i:03d}", "name": f"n{i}", "capital": i} for i in range(1, 50)]
    rows[10]["capital"] = -5
    rows[20]["code"] = rows[3]["code"]
    with pytest.raises(InvalidRecord) as exc:
        recs.bulk_create("company", rows, actor="a", first_row=2)
    assert problems(exc) == {((12, "capital"), "min"), ((22, "code"), "unique")}
    assert recs.query("company").total == 0
    rows[10]["capital"], rows[20]["code"] = 5, "C999"
    recs.batch_size = 7
    assert recs.bulk_create("company", rows, actor="a") == 49
    page = recs.query("company", {"capital": "5"}, order_by="-code")
    assert [r["code"] for r in page.items] == ["C011", "C005"]


def test_bulk_references_to_records_in_the_same_batch(engine):
    recs = deploy(engine)
    recs.bulk_create("group", [{"code": "G1", "name": "one"}], actor="a")
    recs.bulk_create("company", [{"code": f"C{i}00", "name": "x", "group": "G1", "capital": 10} for i in range(1, 4)],
                     actor="a")
    g = recs.find("group", "G1")
    assert g["member_count"] == 3 and g["total_capital"] == Decimal("30")


def test_idempotent_create_with_a_request_id(engine):
    recs = deploy(engine)
    a = recs.create("group", {"code": "G1", "name": "one"}, actor="a", request_id="req-1")
    b = recs.create("group", {"code": "G1", "name": "one"}, actor="a", request_id="req-1")
    assert a["id"] == b["id"] and recs.query("group").total == 1


def test_query_filters_by_reference_key_and_rejects_unknown_fields(engine):
    recs = deploy(engine)
    recs.create("group", {"code": "G1", "name": "one"}, actor="a")
    recs.create("company", {"code": "C100", "name": "A", "group": "G1"}, actor="a")
    recs.create("company", {"code": "C200", "name": "B"}, actor="a")
    assert [r["code"] for r in recs.query("company", {"group": "G1"}).items] == ["C100"]
    assert [r["code"] for r in recs.query("company", {"group": None}).items] == ["C200"]
    with pytest.raises(InvalidRecord):
        recs.query("company", {"colour": "red"})


def test_requests_arriving_together_load_one_model(engine):
    """A fresh process's first requests arrive together: the model is loaded once, so a query never
    joins a condition built on one model's tables to another's (`FROM t, t`: ambiguous column)."""
    import threading

    from runtime.records.service import Records
    deploy(engine)
    records = Records(engine)
    go, seen = threading.Barrier(8), []

    def ask() -> None:
        go.wait()
        seen.append(records.refresh())
    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(m) for m in seen}) == 1
