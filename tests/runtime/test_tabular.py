"""CSV and XLSX import and export: per-row errors, nothing half-imported, a round trip."""
from __future__ import annotations

from decimal import Decimal

import pytest
from openpyxl import Workbook

from runtime.records.errors import InvalidRecord
from runtime.records.tabular import export_file, import_file

from .records_bundle import deploy

CSV_OK = "code,name,capital,founded,listed,ticker,size\nC100,Acme,100.5,2001-02-03,false,,large\n" \
         "C200,Beta,2000,2010-01-01,true,600519.SH,medium\n\nC300,Gamma,,,,,\n"


def test_csv_import_and_round_trip(engine, tmp_path):
    recs = deploy(engine)
    src = tmp_path / "in.csv"
    src.write_text(CSV_OK, encoding="utf-8")
    assert import_file(recs, "company", src, actor="a") == 3
    assert recs.find("company", "C200")["capital"] == Decimal("2000")
    for fmt in ("csv", "xlsx"):
        out = tmp_path / f"out.{fmt}"
        assert export_file(recs, "company", out) == 3
    text = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert text[0].startswith("id,code,name,group,capital,debt,debt_ratio")
    assert "C100,Acme,,100.50," in text[1]


def test_bad_csv_rows_are_reported_by_line_and_nothing_is_imported(engine, tmp_path):
    recs = deploy(engine)
    src = tmp_path / "bad.csv"
    src.write_text("code,name,capital,size\nC100,Acme,100,large\nC200,,abc,huge\nC300,Gamma,1,small,extra\n"
                   "C100,Dup,1,small\n", encoding="utf-8")
    with pytest.raises(InvalidRecord) as exc:
        import_file(recs, "company", src, actor="a")
    got = sorted((tuple(p.path), p.code) for p in exc.value.problems)
    assert got == [((3, "capital"), "number"), ((3, "name"), "required"), ((3, "size"), "choice"),
                   ((4,), "format"), ((5, "code"), "unique")]
    assert "3 of 4 company row(s) are not valid; nothing was written" in str(exc.value)
    assert recs.query("company").total == 0


def test_xlsx_with_a_wrong_header(engine, tmp_path):
    recs = deploy(engine)
    wb = Workbook()
    ws = wb.active
    ws.append(["code", "nmae", "capital"])
    ws.append(["C100", "Acme", 5])
    path = tmp_path / "wrong.xlsx"
    wb.save(path)
    with pytest.raises(InvalidRecord) as exc:
        import_file(recs, "company", path, actor="a")
    msgs = [p.message for p in exc.value.problems]
    assert any('Column "nmae" is not a field of this table; did you mean "name"?' in m for m in msgs)
    assert any("Required column(s) missing: Name" in m for m in msgs)
    assert recs.query("company").total == 0


def test_xlsx_import_with_labels_as_header(engine, tmp_path):
    recs = deploy(engine)
    wb = Workbook()
    ws = wb.active
    ws.append(["Code", "Name", "Capital", "Founded"])
    import datetime
    ws.append(["C100", "Acme", 12.5, datetime.datetime(2001, 2, 3)])
    path = tmp_path / "ok.xlsx"
    wb.save(path)
    assert import_file(recs, "company", path, actor="a") == 1
    rec = recs.find("company", "C100")
    assert rec["capital"] == Decimal("12.50") and str(rec["founded"]) == "2001-02-03"
