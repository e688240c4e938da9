"""Exposure across currencies on a small seeded demo bank (SQLite): a group with a USD/EUR/HKD
sub-limit shows its exposure converted to CNY at the rates of the as-of date, equal to the loans
converted by hand; without a rate for the date the figures are null and the problem says which
currency; a new rate written through the records service is seen at once (replayed)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from examples.demo_bank import generate
from examples.demo_bank.fx import rates_as_of, to_yuan
from examples.demo_bank.values import AS_OF
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.graph.group import group_facts
from runtime.graph.service import GraphService
from runtime.graph.settings import BankSettings
from runtime.records.service import Records
from runtime.storage.db import make_engine


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    demo = generate(scale=0.02, seed=7, transactions=0)
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fx') / 'bank.db'}")
    ensure_deployed(engine, "configs", "test")
    records = Records(engine)
    seed_demo(records, bank=demo, actor="test")
    yield engine, records, demo
    engine.dispose()


def _foreign_group(demo) -> str:
    groups = {f["group"] for f in demo.records["facility"] if f["currency"] != "CNY"
              and any(loan["facility"] == f["facility_no"] for loan in demo.records["loan"])}
    return sorted(groups)[0]


def _facts(engine, records, code: str, as_of: date, lang: str = "en") -> dict:
    service = GraphService(engine, records)
    row = records.find("group", code)
    with service.reading() as state:
        return group_facts(state, row, BankSettings(), as_of=as_of, lang=lang)


def test_a_group_with_foreign_loans_shows_converted_exposure(world):
    engine, records, demo = world
    code = _foreign_group(demo)
    x = _facts(engine, records, code, AS_OF)["exposure"]
    rates = rates_as_of(demo.records, AS_OF)
    group_of = {c["credit_code"]: c["group"] for c in demo.records["company"]}
    by_hand: dict[str, Decimal] = defaultdict(Decimal)
    raw = Decimal(0)
    for loan in demo.records["loan"]:
        if group_of[loan["borrower"]] == code:
            by_hand[loan["currency"]] += loan["balance"]
            raw += loan["balance"]
    expected = sum((to_yuan(rates, v, c) for c, v in by_hand.items()), start=Decimal(0))
    assert set(by_hand) - {"CNY"}                                   # the group really has foreign loans
    assert x["group_credit"]["credit"] == pytest.approx(float(expected), abs=0.01)
    assert x["group_credit"]["credit"] != pytest.approx(float(raw), abs=1.0)   # not summed as if yuan
    assert x["group_credit"]["ratio"] == pytest.approx(float(expected) / 30e9)
    cur = x["currency"]
    assert cur["complete"] and cur["problems"] == [] and cur["as_of"] == AS_OF.isoformat()
    assert cur["note"] == f"converted to CNY at the latest rate on or before {AS_OF.isoformat()}"
    assert {r["currency"] for r in cur["rates"]} >= set(by_hand) - {"CNY"}
    assert all(r["date"] == AS_OF.isoformat() and r["rate"] == float(rates[r["currency"]]) for r in cur["rates"])
    unified = sum(f["amount"] for f in demo.records["facility"] if f["group"] == code and f["level"] == "group_unified")
    assert x["limit_usage"]["unified_limit"] == pytest.approx(float(unified))


def test_a_missing_rate_is_a_problem_on_the_group_not_a_silent_sum(world):
    engine, records, demo = world
    code = _foreign_group(demo)
    first = min(r["rate_date"] for r in demo.records["fx_rate"])
    x = _facts(engine, records, code, date(first.year - 1, 1, 1))["exposure"]
    assert x["group_credit"]["credit"] is None and x["group_credit"]["ratio"] is None
    assert x["group_credit"]["over_limit"] is None and x["indirect"]["total"] is None
    cur = x["currency"]
    assert not cur["complete"]
    missing = {(p["figure"], p["currency"]) for p in cur["problems"]}
    assert ("group_credit", "USD") in missing or ("group_credit", "EUR") in missing or ("group_credit", "HKD") in missing
    p = next(p for p in cur["problems"] if p["figure"] == "group_credit")
    assert p["type"] == "missing_rate" and p["amount"] > 0 and p["count"] >= 1
    assert p["currency"] in p["message"] and "Exchange rates" in p["message"] and "message_zh" not in p
    zh = _facts(engine, records, code, date(first.year - 1, 1, 1), "zh")["exposure"]["currency"]
    assert "汇率" in zh["problems"][0]["message"] and zh["problems"][0]["type"] == "missing_rate"


def test_a_new_rate_reaches_the_cached_graph(world):
    engine, records, demo = world
    code = _foreign_group(demo)
    service = GraphService(engine, records)
    row = records.find("group", code)
    later = date(AS_OF.year + 1, 1, 31)
    with service.reading() as state:
        before = group_facts(state, row, BankSettings(), as_of=later)["exposure"]
    currency = next(r["currency"] for r in before["currency"]["rates"])
    old = next(r["rate"] for r in before["currency"]["rates"] if r["currency"] == currency)
    records.create("fx_rate", {"code": f"{currency}-{later:%Y%m%d}", "currency": currency,
                               "rate": str(Decimal(str(old)) * 2), "rate_date": later}, actor="test")
    with service.reading() as state:
        after = group_facts(state, row, BankSettings(), as_of=later)["exposure"]
    assert service.last_update["kind"] == "incremental"
    new = next(r for r in after["currency"]["rates"] if r["currency"] == currency)
    assert new["date"] == later.isoformat() and new["rate"] == pytest.approx(old * 2)
    assert after["group_credit"]["credit"] > before["group_credit"]["credit"]
    # before: the as-of date had no rate of its own, so the note names the older one it used
    assert before["currency"]["note"].startswith(f"converted to CNY at the latest rate on or before {later.isoformat()} (")
    assert f"{currency} of {AS_OF.isoformat()}" in before["currency"]["note"]
    assert after["currency"]["note"].startswith(f"converted to CNY at the latest rate on or before {later.isoformat()}")
    assert f"{currency} of" not in after["currency"]["note"]
