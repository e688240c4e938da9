"""Real bank spreadsheets into the shipped `company` entity (configs/): a GBK CSV as Chinese Excel
saves it, an XLSX with a percent cell and a date serial, a file with many bad rows reported in
full, the import template filled and imported, and exports people can read."""
from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from examples.demo_bank.codes import make_uscc
from runtime.auth.scope import Scope
from runtime.cli.seed import ensure_deployed
from runtime.records.service import Records
from runtime.records.tabular import ImportRefused, UnreadableFile, import_file, text_encoding
from runtime.records.tabular_export import export_records
from runtime.records.tabular_template import write_template
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
CODES = [make_uscc(random.Random(n), "310101", True) for n in range(12)]
HEADER_ZH = "统一社会信用代码,企业名称,企业类型,行业,注册资本,成立日期,注册地,管户机构,经营状态\n"


@pytest.fixture(scope="module")
def bank_url(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("sheets") / "bank.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    engine.dispose()
    return f"sqlite:///{path}"


@pytest.fixture
def recs(bank_url, tmp_path):
    """A fresh copy of the deployed bank for each test (no company yet)."""
    copy, original = tmp_path / "bank.db", Path(bank_url.removeprefix("sqlite:///"))
    copy.write_bytes(original.read_bytes())
    key = original.parent / ".banyan-audit-key"           # its audit chain's key goes with it
    (tmp_path / key.name).write_bytes(key.read_bytes())
    engine = make_engine(f"sqlite:///{copy}")
    yield Records(engine)
    engine.dispose()


def test_a_gbk_csv_from_chinese_excel_imports(recs, tmp_path):
    src = tmp_path / "成员单位.csv"
    src.write_text(HEADER_ZH
                   + f"{CODES[0]},上海甲实业有限公司,有限责任公司,制造业,3000万,2018/05/01,310101,sh_branch,存续\n"
                   + f"{CODES[1]},上海乙投资有限公司,股份有限公司,投资控股,\"1,250.50\",2018年5月1日,310101,sh_branch,清算\n",
                   encoding="gbk", newline="\r\n")
    assert text_encoding(src) == "gb18030"
    assert import_file(recs, "company", src, actor="a") == 2
    first = recs.find("company", CODES[0])
    assert first["name"] == "上海甲实业有限公司" and first["legal_form"] == "limited_liability"
    assert first["registered_capital"] == Decimal("30000000") and first["established_on"] == date(2018, 5, 1)
    assert first["status"] == "operating" and first["branch"] == "sh_branch"
    second = recs.find("company", CODES[1])
    assert second["registered_capital"] == Decimal("1250.50") and second["status"] == "liquidation"
    assert second["established_on"] == date(2018, 5, 1)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_with_or_without_bom_and_a_unit_in_the_header(recs, tmp_path, encoding):
    src = tmp_path / "in.csv"
    src.write_text("统一社会信用代码,企业名称,企业类型,行业,注册资本（万元）,成立日期,注册地,管户机构\n"
                   f"{CODES[2]},丙公司,有限责任公司,制造业,3000,2018-05-01,310101,sh_branch\n", encoding=encoding)
    assert import_file(recs, "company", src, actor="a") == 1
    rec = recs.find("company", CODES[2])
    assert rec["registered_capital"] == Decimal("30000000") and rec["status"] == "operating"   # the default


def test_text_that_is_neither_utf8_nor_gbk_is_refused_in_words(recs, tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(HEADER_ZH.encode("utf-8") + b"\xff\xfe\xff,x\n")
    with pytest.raises(UnreadableFile) as exc:
        import_file(recs, "company", src, actor="a")
    assert "GBK" in exc.value.render("zh") and "CSV UTF-8" in exc.value.render("en")
    assert exc.value.status == 422


def _sheet(rows: list[list], path: Path, formats: dict[int, str] | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    for col, fmt in (formats or {}).items():
        for cell in ws.iter_cols(min_col=col, max_col=col, min_row=2):
            for c in cell:
                c.number_format = fmt
    wb.save(path)
    return path


def test_an_xlsx_with_a_percent_cell_and_a_date_serial(recs, tmp_path):
    path = _sheet([["统一社会信用代码", "企业名称", "企业类型", "行业", "注册资本", "成立日期", "注册地", "管户机构"],
                   [CODES[3], "丁公司", "有限责任公司", "制造业", 5e7, 43221, "310101", "sh_branch"]],
                  tmp_path / "c.xlsx", {6: "0"})                # 43221 shown as a plain number: an Excel serial
    assert import_file(recs, "company", path, actor="a") == 1
    rec = recs.find("company", CODES[3])
    assert rec["established_on"] == date(2018, 5, 1) and rec["registered_capital"] == Decimal("50000000")
    # a percent-formatted cell holds the fraction (35% is 0.35); a plain number is percent points (35 is 35%)
    path = _sheet([["统一社会信用代码", "企业名称", "企业类型", "行业", "注册资本", "成立日期", "注册地", "管户机构"],
                   [CODES[10], "戊公司", "有限责任公司", "制造业", 100, "2018-05-01", "310101", "sh_branch"]],
                  tmp_path / "c2.xlsx")
    assert import_file(recs, "company", path, actor="a") == 1
    holdings = _sheet([["股权关系编号", "持有人类型", "持股企业", "被投资企业", "持股比例", "持股起始日"],
                       ["E000001", "企业", CODES[3], CODES[10], 0.35, 43221],
                       ["E000002", "企业", CODES[10], CODES[3], 20, 43221]], tmp_path / "h.xlsx")
    wb = load_workbook(holdings)
    wb.active["E2"].number_format = "0.00%"
    wb.save(holdings)
    assert import_file(recs, "equity_holding", holdings, actor="a") == 2
    assert recs.find("equity_holding", "E000001")["share"] == Decimal("0.35")
    assert recs.find("equity_holding", "E000002")["share"] == Decimal("0.20")
    assert recs.find("equity_holding", "E000001")["since"] == date(2018, 5, 1)


def test_exported_percents_read_back_as_the_same_percent(recs, tmp_path):
    """A bare number is percent points at every door, so no export may write the fraction: the
    machine export writes "35%", the people's CSV keeps every digit."""
    from dsl.values import read_value
    from runtime.records.tabular_export import export_file
    test_an_xlsx_with_a_percent_cell_and_a_date_serial(recs, tmp_path)
    recs.update("equity_holding", recs.find("equity_holding", "E000002")["id"], {"share": "12.345%"}, actor="a")
    field = next(f for f in recs.live.entity("equity_holding").fields if f.name == "share")
    for lang, name in ((None, "raw.csv"), ("zh", "zh.csv"), (None, "raw.xlsx")):
        path = tmp_path / name
        export_file(recs, "equity_holding", path, lang=lang)
        if name.endswith(".csv"):
            text = path.read_text(encoding="utf-8-sig")
        else:
            text = "\n".join(",".join(str(c) for c in row if c is not None)
                             for row in load_workbook(path).active.iter_rows(values_only=True))
        assert "35%" in text and "12.345%" in text, (name, text[:400])
        assert read_value(field, "12.345%", source="text") == Decimal("0.12345")


def test_every_problem_of_every_row_is_reported_and_nothing_is_written(recs, tmp_path):
    src = tmp_path / "bad.csv"
    src.write_text(HEADER_ZH
                   + f"{CODES[4]},好公司,有限责任公司,制造业,100万,2018-05-01,310101,sh_branch,存续\n"
                   + f"{CODES[5]},北京公司,有限责任公司,制造业,100万,2018-05-01,310101,bj_branch,存续\n"
                   + f"{CODES[6]},坏类型,有限公司,制造业,100万,2018-05-01,310101,sh_branch,存续\n"
                   + f"{CODES[7]},坏日期,有限责任公司,制造业,100万,2018-13-45,310101,sh_branch,倒闭\n"
                   + f"{CODES[8]},多处问题,有限责任公司,造船,一百万,昨天,31010,bj_branch,存续\n",
                   encoding="gbk")
    sh = Scope("rm", frozenset({"sh_branch", "sh_pudong_sub_branch", "sh_minhang_sub_branch"}))
    with pytest.raises(ImportRefused) as exc:
        import_file(recs, "company", src, actor="rm", scope=sh)
    report = exc.value.report("zh")
    where = {(r.line, r.column) for r in report}
    assert (3, "管户机构") in where                                     # out of scope
    assert (4, "企业类型") in where                                     # not a choice
    assert {(5, "成立日期"), (5, "经营状态")} <= where                  # a bad date and a bad choice, one row
    assert {(6, "行业"), (6, "注册资本"), (6, "成立日期"), (6, "注册地")} <= where    # every problem of row 6
    assert (6, "管户机构") in where                                     # even beside the others
    assert all(r.message and "`" not in r.message for r in report)
    bad_form = next(r for r in report if (r.line, r.column) == (4, "企业类型"))
    assert "有限公司" in bad_form.message and "有限责任公司" in bad_form.message    # the choices, by label
    assert "4 行有问题（共 5 行）" in exc.value.render("zh")
    assert exc.value.report("en")[0].message != report[0].message
    detail = exc.value.to_dict("zh")["detail"]
    assert {"row", "column", "msg"} <= set(detail[0]) and detail[0]["row"] == 3
    assert recs.query("company").total == 0


def test_a_bad_header_names_each_column_as_written(recs, tmp_path):
    src = tmp_path / "h.csv"
    src.write_text("统一社会信用代码,企业名字,企业类型,注册资本（美元）\nx,y,z,1\n", encoding="utf-8")
    with pytest.raises(ImportRefused) as exc:
        import_file(recs, "company", src, actor="a")
    lines = [(r.column, r.message) for r in exc.value.report("zh")]
    assert any(c == "企业名字" and "企业名称" in m for c, m in lines)          # did you mean
    assert any(c == "注册资本（美元）" and "美元" in m for c, m in lines)
    missing = next(m for c, m in lines if "缺少必填列" in m)
    assert "行业" in missing and "企业名称" in missing and "经营状态" not in missing   # status has a default


def test_the_template_round_trips(recs, tmp_path):
    path = tmp_path / "t.xlsx"
    write_template(path, recs, "company", "zh")
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[:2] == ["统一社会信用代码", "企业名称"] and "资产负债率（最近一期）" not in header   # no computed
    col = {h: i + 1 for i, h in enumerate(header)}
    capital = ws.cell(row=1, column=col["注册资本"]).comment.text
    assert "必填" in capital and "3000万" in capital
    assert "存续" in ws.cell(row=1, column=col["经营状态"]).comment.text
    lists = wb["_lists"]
    assert lists.sheet_state == "hidden"
    validations = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    status_col = ws.cell(row=1, column=col["经营状态"]).column_letter
    formula = next(f for ref, f in validations.items() if ref.startswith(status_col + "2"))
    choices = [c.value for c in lists[formula.split("!")[1].replace("$", "").split(":")[0][0]] if c.value]
    assert choices == ["存续", "清算", "吊销", "注销"]
    assert ws.column_dimensions[ws.cell(row=1, column=col["统一社会信用代码"]).column_letter].width >= 16
    values = {"统一社会信用代码": CODES[9], "企业名称": "模板公司", "企业类型": "股份有限公司", "行业": "能源",
              "注册资本": "1.5亿", "成立日期": date(2019, 3, 4), "注册地": "310101", "管户机构": "sh_branch",
              "是否上市": "否", "经营状态": "存续"}
    for name, v in values.items():
        ws.cell(row=2, column=col[name], value=v)
    wb.save(path)
    assert import_file(recs, "company", path, actor="a") == 1
    rec = recs.find("company", CODES[9])
    assert rec["registered_capital"] == Decimal("150000000") and rec["legal_form"] == "joint_stock"
    assert rec["established_on"] == date(2019, 3, 4) and rec["listed"] is False


def test_an_export_people_can_read_follows_the_list(recs, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text(HEADER_ZH + "".join(
        f"{CODES[i]},公司{i},有限责任公司,制造业,{i}000万,2018-05-0{i},310101,sh_branch,{'存续' if i % 2 else '清算'}\n"
        for i in range(1, 6)), encoding="utf-8")
    assert import_file(recs, "company", src, actor="a") == 5
    out = tmp_path / "out.xlsx"
    n = export_records(recs, "company", out, "xlsx", lang="zh", filters={"status": "operating"},
                       order="-registered_capital")
    assert n == 3
    ws = load_workbook(out).worksheets[0]
    header = [c.value for c in ws[1]]
    col = {h: i for i, h in enumerate(header)}
    rows = list(ws.iter_rows(min_row=2))
    assert [r[col["企业名称"]].value for r in rows] == ["公司5", "公司3", "公司1"]
    first = rows[0]
    assert first[col["经营状态"]].value == "存续" and first[col["企业类型"]].value == "有限责任公司"
    assert first[col["管户机构"]].value not in ("sh_branch", None)                 # the unit's name
    assert first[col["注册资本"]].value == 50000000 and first[col["注册资本"]].number_format == "#,##0.00"
    assert first[col["成立日期"]].number_format == "yyyy-mm-dd"
    assert ws.column_dimensions["B"].width >= 8 and ws.freeze_panes == "A2"
    csv_out = tmp_path / "out.csv"
    export_records(recs, "company", csv_out, "csv", lang="zh", search="公司2")
    raw = csv_out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("统一社会信用代码,企业名称") and len(lines) == 2 and "清算" in lines[1]


def test_the_cli_writes_a_template_imports_it_and_exports_for_people(recs, tmp_path):
    from click.testing import CliRunner

    from runtime.cli.main import main
    url = str(recs.engine.url)
    env = {"BANYAN_DATABASE_URL": url, "BANYAN_ACTOR": "tester", "BANYAN_LANG": "zh"}
    path = tmp_path / "tpl.xlsx"
    r = CliRunner().invoke(main, ["template", "company", str(path)], env=env)
    assert r.exit_code == 0, r.output
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    col = {c.value: c.column for c in ws[1]}
    for name, v in {"统一社会信用代码": CODES[11], "企业名称": "命令行公司", "企业类型": "合伙企业", "行业": "能源",
                    "注册资本": "2亿", "成立日期": "2020/1/2", "注册地": "310101", "管户机构": "sh_branch"}.items():
        ws.cell(row=2, column=col[name], value=v)
    ws.cell(row=3, column=col["企业名称"], value="缺信用代码")
    wb.save(path)
    r = CliRunner().invoke(main, ["import", "company", str(path)], env=env)
    assert r.exit_code == 1 and "第 3 行 · 统一社会信用代码: 此项必填" in r.output
    ws.delete_rows(3)
    wb.save(path)
    r = CliRunner().invoke(main, ["import", "company", str(path)], env=env)
    assert r.exit_code == 0, r.output
    out = tmp_path / "out.csv"
    r = CliRunner().invoke(main, ["export", "company", str(out), "--where", "legal_form=partnership"], env=env)
    assert r.exit_code == 0 and "1 company" in r.output
    text = out.read_text(encoding="utf-8-sig").splitlines()
    assert text[0].startswith("统一社会信用代码,企业名称") and "合伙企业" in text[1] and "200000000.00" in text[1]
