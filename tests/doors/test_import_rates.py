"""An import refused because an amount's currency has no exchange rate (the totals above the rows
cannot be converted: "missing rate refuses the write", runtime/records/computed.py) names the rows
in that currency — line and currency column as written — with the words the API gives a single
record, in zh and in en; nothing is stored, and with the rate the same file goes in."""
from __future__ import annotations

import csv

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from runtime.http.app import create_app
from runtime.records.service import Records
from runtime.records.tabular import ImportRefused, import_file
from runtime.storage.db import make_engine
from tests.runtime.flow_bank import company_key, make_bank
from tests.runtime.test_records_currency import EARLIER, TODAY, loan, rate

from .record_bank import cli

LINE = {"zh": "第 {} 行", "en": "line {}"}


@pytest.fixture(scope="module")
def bank(door_db):
    from datetime import timedelta
    engine = make_engine(door_db)
    make_bank(engine)
    records = Records(engine)
    common = {"group": "G0001", "product": "comprehensive", "start_date": EARLIER,
              "expiry_date": TODAY + timedelta(days=700), "approving_branch": "head_office", "status": "active"}
    records.create("facility", {**common, "facility_no": "F000001", "level": "group_unified", "amount": "1亿",
                                "used": "0", "currency": "CNY"}, actor="test")
    records.create("facility", {**common, "facility_no": "F000002", "level": "member_sub",
                                "borrower": company_key("C1"), "parent_facility": "F000001", "amount": "5000000",
                                "used": "0", "currency": "USD"}, actor="test")
    yield door_db, engine
    engine.dispose()


def loans_file(path, *rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def stored(engine) -> int:
    table = Records(engine).live.table("loan")
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()


def test_the_rows_in_a_currency_without_a_rate_are_named(bank, tmp_path):
    url, engine = bank
    rows = [loan("L0000001"), {**loan("L0000002"), "currency": "美元"}]      # a currency by its label too
    path = loans_file(tmp_path / "loans.csv", *rows)
    single = TestClient(create_app(engine))
    for lang in ("zh", "en"):
        truth = single.post("/records/loan", json={k: str(v) for k, v in rows[0].items()},
                            headers={"Accept-Language": lang})
        assert truth.status_code == 422
        words = truth.json()["detail"][0]["msg"]
        assert truth.json()["detail"][0]["type"] == "missing_rate" and "USD" in words
        with pytest.raises(ImportRefused) as refused:
            import_file(Records(engine), "loan", path, actor="rm")
        assert [(r.line, r.column, r.code, r.message) for r in refused.value.report(lang)] == [
            (2, "currency", "missing_rate", words), (3, "currency", "missing_rate", words)]
        assert refused.value.params == {"bad": 2, "rows": 2}
        r = cli(url, ["import", "loan", str(path)], lang)
        assert r.exit_code == 1
        assert [line.strip() for line in r.stderr.splitlines()[1:]] == [
            f"{LINE[lang].format(n)} · currency: {words}" for n in (2, 3)]
    assert stored(engine) == 0
    Records(engine).create("fx_rate", rate(EARLIER, "7.1"), actor="ops")
    assert import_file(Records(engine), "loan", path, actor="rm") == 2
    assert stored(engine) == 2
