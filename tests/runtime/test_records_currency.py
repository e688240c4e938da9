"""Stored CNY totals and the exchange rates (issue 11): a USD loan written without a USD rate is
refused with the rate's words (zh and en) and nothing is written; with the rate it is converted;
a newer rate revalues the stored totals through the change feed's `revalue` subscriber (driven
here synchronously, as a worker would), once; a record's own computed field meets the same
refusal; the CLI and the API say what is missing in the asker's language."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dsl.bank_time import bank_day_starts, bank_today
from runtime.cli.main import main
from runtime.http.app import create_app
from runtime.jobs import feed, leases
from runtime.jobs.changes import last_seq
from runtime.records import revalue
from runtime.records.errors import InvalidRecord
from runtime.records.service import Records
from runtime.storage.db import make_engine

from .flow_bank import company_key, make_bank

TODAY = bank_today()             # the bank's day, as the runtime converts at
EARLIER = TODAY - timedelta(days=40)
BALANCE = Decimal("1000000.00")


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    make_bank(eng)
    records = Records(eng)
    common = {"group": "G0001", "product": "comprehensive", "start_date": EARLIER,
              "expiry_date": TODAY + timedelta(days=700), "approving_branch": "head_office", "status": "active"}
    records.create("facility", {**common, "facility_no": "F000001", "level": "group_unified", "amount": "1亿",
                                "used": "0", "currency": "CNY"}, actor="test")
    records.create("facility", {**common, "facility_no": "F000002", "level": "member_sub", "borrower": company_key("C1"),
                                "parent_facility": "F000001", "amount": "5000000", "used": "0", "currency": "USD"},
                   actor="test")
    feed.run_once(eng, "setup", names=[revalue.SUBSCRIBER])          # the subscriber starts after the setup
    yield eng
    eng.dispose()


def loan(no: str = "L0000001", balance: Decimal = BALANCE) -> dict:
    return {"loan_no": no, "facility": "F000002", "borrower": company_key("C1"), "product": "trade_finance",
            "currency": "USD", "principal": balance, "balance": balance, "rate": "0.04", "disbursed_on": EARLIER,
            "maturity_date": TODAY + timedelta(days=300), "overdue_days": 0, "classification": "normal",
            "branch": "sh_branch"}


def rate(on: date, value: str, currency: str = "USD") -> dict:
    return {"code": f"{currency}-{on:%Y%m%d}", "currency": currency, "rate": value, "rate_date": on}


def company(records: Records) -> dict:
    return records.find("company", company_key("C1"))


def counts(engine) -> tuple[int, int]:
    """(loans stored, the change feed's last event)."""
    table = Records(engine).live.table("loan")
    with engine.connect() as conn:
        loans = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
        return loans, last_seq(conn)


def test_a_usd_loan_without_a_usd_rate_is_refused_and_nothing_is_written(engine):
    records = Records(engine)
    before = counts(engine)
    with pytest.raises(InvalidRecord) as caught:
        records.create("loan", loan(), actor="rm")
    err = caught.value
    assert err.status == 422 and err.code == "invalid"
    day = TODAY.isoformat()
    assert err.render("en") == (f"No USD→CNY exchange rate on or before {day}: "
                                "enter the USD rate in Exchange rates (汇率) first")
    assert err.render("zh") == f"缺少 {day} 或之前的USD兑CNY汇率：请先在“汇率”中录入USD汇率"
    (problem,) = err.detail("zh")
    assert problem["type"] == "missing_rate" and "USD" in problem["msg"] and day in problem["msg"]
    assert "function failed" not in err.detail("en")[0]["msg"]
    assert counts(engine) == before                                   # no loan, no feed event
    assert company(records)["loan_balance"] == 0

    records.create("fx_rate", rate(EARLIER, "7.1"), actor="ops")
    records.create("loan", loan(), actor="rm")
    assert company(records)["loan_balance"] == Decimal("7100000.00")
    assert records.find("group", "G0001")["total_credit_balance"] == Decimal("7100000.00")


def test_a_newer_rate_revalues_the_stored_totals_through_the_feed(engine):
    records = Records(engine)
    records.create("fx_rate", rate(EARLIER, "7.1"), actor="ops")
    records.create("loan", loan(), actor="rm")
    feed.run_once(engine, "w1", names=[revalue.SUBSCRIBER])
    assert company(records)["loan_balance"] == Decimal("7100000.00")

    records.create("fx_rate", rate(TODAY, "7.25"), actor="ops")
    assert company(records)["loan_balance"] == Decimal("7100000.00")          # as of its last write
    version = company(records)["version"]
    assert feed.run_once(engine, "w1", names=[revalue.SUBSCRIBER]) == 1
    c = company(records)
    assert c["loan_balance"] == Decimal("7250000.00") and c["version"] == version + 1
    assert records.find("group", "G0001")["total_credit_balance"] == Decimal("7250000.00")   # up the chain
    assert records.find("company", company_key("C2"))["loan_balance"] == 0

    # idempotent: the same rate again, or the batch handed on again, moves nothing
    with engine.begin() as conn:
        assert revalue.revalue(conn, Records(engine), ["USD"]) == (0, None)
    seq = counts(engine)[1]
    assert feed.run_once(engine, "w1", names=[revalue.SUBSCRIBER]) == 0 and counts(engine)[1] == seq

    # another currency's rate touches no USD amounts
    records.create("fx_rate", rate(TODAY, "7.9", "EUR"), actor="ops")
    assert feed.run_once(engine, "w1", names=[revalue.SUBSCRIBER]) == 1
    assert counts(engine)[1] == seq + 1 and company(records)["version"] == version + 1

    # a rate dated after today is due work on its date, and changes nothing yet
    later = TODAY + timedelta(days=10)
    records.create("fx_rate", rate(later, "9.9"), actor="ops")
    feed.run_once(engine, "w1", names=[revalue.SUBSCRIBER])
    assert company(records)["loan_balance"] == Decimal("7250000.00")
    due = leases.pending(engine, revalue.DUE_KIND)
    assert [d["key"] for d in due] == [f"USD-{later.isoformat()}"]
    assert due[0]["due_at"] == bank_day_starts(later)           # the start of its day on the bank's clock
    # … run on its date (the clock here is still today's, so the rate is not yet the latest)
    assert leases.run_once(engine, "w1", kinds=[revalue.DUE_KIND], now=datetime.combine(later, time(1))) == 1
    assert leases.pending(engine, revalue.DUE_KIND) == []
    assert company(records)["loan_balance"] == Decimal("7250000.00")


def test_a_deleted_rate_refuses_the_records_own_computed_field_and_empties_the_total(engine):
    records = Records(engine)
    records.create("fx_rate", rate(EARLIER, "7.1"), actor="ops")
    records.create("loan", loan(), actor="rm")
    feed.run_once(engine, "w1", names=[revalue.SUBSCRIBER])
    usd = records.find("fx_rate", f"USD-{EARLIER:%Y%m%d}")
    records.delete("fx_rate", usd["id"], actor="ops")
    c = company(records)
    with pytest.raises(InvalidRecord) as caught:          # its own loan_balance needs the USD rate
        records.update("company", c["id"], {"name": "Acme C1 renamed"}, actor="rm")
    (problem,) = caught.value.detail("en")
    assert problem["loc"] == ["loan_balance"] and problem["type"] == "missing_rate"
    assert problem["msg"].startswith("No USD→CNY exchange rate on or before")
    assert "汇率" in caught.value.detail("zh")[0]["msg"]
    assert company(records)["name"] != "Acme C1 renamed"
    # the revaluation is not a write of a person's: the figure becomes empty, as its help says
    feed.run_once(engine, "w1", names=[revalue.SUBSCRIBER])
    assert company(records)["loan_balance"] is None
    assert records.find("group", "G0001")["total_credit_balance"] is None


def _without_rates(engine) -> None:
    records = Records(engine)
    records.create("fx_rate", rate(EARLIER, "7.1"), actor="ops")
    records.create("loan", loan(), actor="rm")
    records.delete("fx_rate", records.find("fx_rate", f"USD-{EARLIER:%Y%m%d}")["id"], actor="ops")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_cli_prints_a_dash_and_the_missing_rate(engine, db_url, lang):
    _without_rates(engine)
    r = CliRunner().invoke(main, ["graph", "group", "G0001"],
                           env={"BANYAN_DATABASE_URL": db_url, "BANYAN_LANG": lang})
    assert r.exit_code == 0, r.output
    assert "with guarantees for outside borrowers: — = — of net capital" in r.output
    day = TODAY.isoformat()
    if lang == "en":
        assert f"converted to CNY at the latest rate on or before {day}" in r.output
        assert f"No USD→CNY exchange rate on or before {day}: enter the USD rate in Exchange rates" in r.output
    else:
        assert f"按 {day} 或之前最近的汇率折算为人民币" in r.output
        assert f"缺少 {day} 或之前的USD兑CNY汇率：请先在“汇率”中录入USD汇率" in r.output
    data = json.loads(CliRunner().invoke(main, ["graph", "group", "G0001", "--json"],
                                         env={"BANYAN_DATABASE_URL": db_url, "BANYAN_LANG": lang}).output)
    assert data["exposure"]["indirect"]["total"] is None


def test_the_api_says_the_missing_rate_in_the_callers_language(engine):
    _without_rates(engine)
    client = TestClient(create_app(engine))
    answers = {lang: client.get("/graph/groups/G0001", headers={"Accept-Language": header}).json()
               for lang, header in (("en", "en-GB,en;q=0.9"), ("zh", "zh-CN,zh;q=0.9"))}
    day = TODAY.isoformat()
    for facts in answers.values():
        cur = facts["exposure"]["currency"]
        assert facts["exposure"]["group_credit"]["credit"] is None and not cur["complete"]
        (p, *_) = [p for p in cur["problems"] if p["figure"] == "group_credit"]
        assert p["type"] == "missing_rate" and p["key"] == "fx.missing_rate" and p["currency"] == "USD"
        assert set(p) >= {"message", "as_of", "amount", "count"} and "message_zh" not in p
        assert "note_zh" not in cur
    assert answers["en"]["exposure"]["currency"]["problems"][0]["message"].startswith(
        f"No USD→CNY exchange rate on or before {day}")
    assert answers["zh"]["exposure"]["currency"]["problems"][0]["message"].startswith(f"缺少 {day} 或之前的USD兑CNY汇率")
    assert answers["zh"]["exposure"]["currency"]["note"] == f"按 {day} 或之前最近的汇率折算为人民币"
    assert answers["en"]["exposure"]["currency"]["note"] == f"converted to CNY at the latest rate on or before {day}"


def test_a_large_revaluation_goes_on_in_transactions_of_its_own(engine, monkeypatch):
    """One transaction recomputes at most BUDGET records; the rest is due work, due at once, that
    picks up where the last one stopped — and the totals end as one pass would leave them."""
    records = Records(engine)
    records.create("fx_rate", rate(EARLIER, "7.1"), actor="ops")
    records.create("loan", loan(), actor="rm")
    records.create("loan", {**loan("L0000002"), "borrower": company_key("C2")}, actor="rm")
    feed.run_once(engine, "w1", names=[revalue.SUBSCRIBER])
    monkeypatch.setattr(revalue, "BUDGET", 1)
    monkeypatch.setattr(revalue, "CHUNK", 1)
    records.create("fx_rate", rate(TODAY, "7.25"), actor="ops")
    assert feed.run_once(engine, "w1", names=[revalue.SUBSCRIBER]) == 1
    done = [company(records)["loan_balance"], records.find("company", company_key("C2"))["loan_balance"]]
    assert sorted(done) == [Decimal("7100000.00"), Decimal("7250000.00")]        # one of two, so far
    assert [d["payload"] for d in leases.pending(engine, revalue.DUE_KIND)]        # the rest is waiting
    rounds = 0
    while leases.pending(engine, revalue.DUE_KIND) and rounds < 10:
        leases.run_once(engine, "w1", kinds=[revalue.DUE_KIND])
        rounds += 1
    assert leases.pending(engine, revalue.DUE_KIND) == [] and rounds >= 1
    assert company(records)["loan_balance"] == Decimal("7250000.00")
    assert records.find("company", company_key("C2"))["loan_balance"] == Decimal("7250000.00")
    assert records.find("group", "G0001")["total_credit_balance"] == Decimal("14500000.00")
