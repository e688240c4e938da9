"""The large-exposure report (大额风险暴露) on a small bank (tests/runtime/large_exposure_bank.py),
on SQLite and PostgreSQL: exactly the clients and groups at or above 10% of tier-1 capital, with
the figures the concentration functions give, largest first; a branch reader sees their part; the
workbook holds numbers; bad input is an error in words and leaves no file."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from engine.functions import GRAPH_KEY, connected_credit_ratio
from engine.graph.concentration import NoCapitalFigure
from runtime.auth.org import OrgTree
from runtime.auth.scope import Scope
from runtime.graph.context import graph_context
from runtime.reports.large_exposures import large_exposure_report
from runtime.reports.large_exposures_xlsx import ReportFileError, save_report
from runtime.storage.migrate import upgrade

from .large_exposure_bank import TIER1, YI, key, make

DAY = date(2026, 9, 1)          # tier-1 capital 100亿 (2026Q2)


@pytest.fixture
def bank(engine):
    upgrade(engine)
    return make(engine)


def test_the_clients_and_groups_at_or_over_the_line_largest_first(bank):
    found = large_exposure_report(bank, None, as_of=DAY).data
    assert found.capital.key == "2026Q2" and found.capital.tier1_capital == TIER1
    assert [(c.key, c.total, c.ratio, c.over_limit) for c in found.clients] == [
        (key("C"), 16 * YI, Decimal("0.16"), True),
        (key("A"), 12 * YI, Decimal("0.12"), False),
        (key("E"), 10 * YI, Decimal("0.10"), False)]          # 1亿 USD at 7.1 + 2.9亿: exactly at the line
    assert key("D") not in {c.key for c in found.clients}      # 9.99%: just under
    assert [c.name for c in found.clients] == ["客户C", "客户A", "客户E"]
    assert all(c.general == c.total for c in found.clients)
    assert {c.key: c.potential for c in found.clients} == {key("C"): 0, key("A"): 2 * YI, key("E"): 0}
    assert [(g.key, g.name, g.members, g.total, g.over_limit) for g in found.groups] == [
        ("G0002", "乙集团", 2, Decimal("2599000000"), True),
        ("G0001", "甲集团", 2, 17 * YI, False),
        ("G0003", "丙集团", 1, 10 * YI, False)]
    single, connected = found.summary
    assert (single.count, single.total, single.ratio) == (3, 38 * YI, Decimal("0.38"))
    assert (connected.count, connected.total) == (3, Decimal("5299000000"))


def test_one_truth_with_the_alert_rules_function(bank, engine):
    """Each group's share is what `connected_credit_ratio(subject, 0)` gives the alert rule."""
    found = large_exposure_report(bank, None, as_of=DAY).data
    ctx = {**graph_context(engine), "$now": DAY}
    for g in found.groups:
        assert connected_credit_ratio(ctx, g.key, Decimal(0)) == g.ratio
    assert ctx[GRAPH_KEY].exposure.credit((key("C"),), DAY) == found.clients[0].total


def test_the_capital_of_the_day_counts(bank):
    """Before 2026Q2 the 2026Q1 figure (90亿) counts: D's 9.99亿 is then above 10%."""
    found = large_exposure_report(bank, None, as_of=date(2026, 5, 1)).data
    assert found.capital.key == "2026Q1"
    assert key("D") in {c.key for c in found.clients}


def test_a_branch_reader_sees_their_clients_and_the_groups_they_lead(bank):
    tree = OrgTree(bank.refresh().bundle)
    shanghai = Scope("rm_sh", tree.scope(["sh_branch"], False))
    found = large_exposure_report(bank, shanghai, as_of=DAY)
    assert [c.key for c in found.data.clients] == [key("C")]    # A (Beijing) and E (Guangzhou) are not theirs
    assert [g.key for g in found.data.groups] == ["G0002"]      # G0001 is led by Beijing, though B banks here
    assert found.scope_label and "上海" in found.scope_label


def test_the_workbook_holds_numbers_in_wan_and_text_as_text(bank, tmp_path):
    found = large_exposure_report(bank, None, as_of=DAY)
    path = save_report(found, tmp_path / "大额风险暴露.xlsx", "zh")
    wb = load_workbook(path)
    assert wb.sheetnames == ["I 总体情况", "II 非同业单一客户", "III 非同业集团客户"]
    clients = wb["II 非同业单一客户"]
    assert "2026-09-01" in clients["A2"].value and "万元" in clients["A2"].value
    assert [c.value for c in clients[5]][:4] == ["序号", "客户名称", "统一社会信用代码", "风险暴露总和"]
    first = [c for c in clients[6]]
    assert first[1].value == "客户C" and first[2].value == key("C")
    assert first[3].value == 160000 and first[3].number_format == "#,##0.00"     # 16亿 in 万元, a number
    assert first[6].value == pytest.approx(0.16) and first[6].number_format == "0.00%"
    assert first[8].value == "是"
    assert clients.cell(row=9, column=1).value is None                          # three rows, then the notes
    notes = " ".join(str(c.value) for c in clients["A"] if c.value)
    assert "交易账簿风险暴露" in notes and "未计入" in notes
    groups = wb["III 非同业集团客户"]
    assert [groups.cell(row=r, column=3).value for r in (6, 7, 8)] == ["G0002", "G0001", "G0003"]
    assert groups.cell(row=6, column=5).value == 259900
    en = load_workbook(save_report(found, tmp_path / "en.xlsx", "en"))
    assert en.worksheets[1]["B5"].value == "客户名称\nClient"


def test_a_name_a_spreadsheet_would_run_stays_text(engine, tmp_path):
    """F's name starts with `=`: were F large, the cell must be text, not a formula."""
    upgrade(engine)
    records = make(engine)
    from tests.runtime.large_exposure_bank import name
    f = records.find("company", key("F"))
    records.create("loan", {"loan_no": "L0000099", "facility": "F000003", "borrower": key("F"),
                            "product": "working_capital", "currency": "CNY", "principal": 11 * YI,
                            "balance": 11 * YI, "rate": Decimal("0.04"), "disbursed_on": "2026-01-10",
                            "maturity_date": "2027-01-10", "overdue_days": 0, "classification": "normal",
                            "branch": "gz_branch"}, actor="test")
    assert f["name"] == name("F")
    path = save_report(large_exposure_report(records, None, as_of=DAY), tmp_path / "r.xlsx")
    ws = load_workbook(path)["II 非同业单一客户"]
    cell = next(c for c in ws["B"] if c.value == name("F"))
    assert cell.data_type == "s"


def test_no_capital_on_record_is_an_error_in_words(engine):
    upgrade(engine)
    records = make(engine, capital=False)
    with pytest.raises(NoCapitalFigure) as caught:
        large_exposure_report(records, None, as_of=DAY)
    assert "本行资本" in caught.value.render("zh")


def test_an_unwritable_path_writes_nothing(bank, tmp_path, monkeypatch):
    found = large_exposure_report(bank, None, as_of=DAY)
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(ReportFileError):
        save_report(found, folder / "no-such-folder" / "r.xlsx")
    with pytest.raises(ReportFileError):
        save_report(found, folder / "r.csv")
    assert list(folder.iterdir()) == []
    (folder / "r.xlsx").write_bytes(b"the old report")
    import runtime.reports.large_exposures_xlsx as xlsx

    def broken(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(xlsx.os, "replace", broken)
    with pytest.raises(ReportFileError) as caught:
        save_report(found, folder / "r.xlsx")
    assert "No space left" in caught.value.render("en")
    assert [p.name for p in folder.iterdir()] == ["r.xlsx"] and (folder / "r.xlsx").read_bytes() == b"the old report"


def test_the_cli_writes_the_file_and_refuses_in_words(bank, db_url, tmp_path, monkeypatch):
    from runtime.cli.main import main
    monkeypatch.setenv("BANYAN_DATABASE_URL", db_url)
    out = tmp_path / "report.xlsx"
    done = CliRunner().invoke(main, ["report", "large-exposures", "--out", str(out), "--lang", "en"])
    assert done.exit_code == 0, done.output
    assert "3 client(s), 3 group(s)" in done.output
    wb = load_workbook(out)
    assert wb.worksheets[2]["B6"].value == "乙集团"
    bad = CliRunner().invoke(main, ["report", "large-exposures", "--out", str(tmp_path / "nowhere" / "r.xlsx")])
    assert bad.exit_code == 2 and "error: report_unwritable" in bad.output and "Traceback" not in bad.output
    nobody = CliRunner().invoke(main, ["report", "large-exposures", "--out", str(out), "--as", "nobody"])
    assert nobody.exit_code == 2 and "no active user" in nobody.output
    from runtime.auth.users import UserStore
    UserStore(bank.engine).save("rm_sh", display_name="rm_sh", org_unit="sh_branch", email="rm_sh@bank.test",
                                password="banyan-demo-2026", roles=[("relationship_manager", "sh_branch")],
                                tree=OrgTree(bank.refresh().bundle), new=True)
    mine = tmp_path / "mine.xlsx"
    done = CliRunner().invoke(main, ["report", "large-exposures", "--out", str(mine), "--as", "rm_sh"])
    assert done.exit_code == 0 and "1 client(s), 1 group(s)" in done.output, done.output
    assert load_workbook(mine).worksheets[1]["C6"].value == key("C")
