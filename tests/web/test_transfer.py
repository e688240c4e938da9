"""Spreadsheets at the doors (pages and JSON API) on the demo bank: the import template, exports
that follow the list the person is looking at, and a GBK import refused with every problem by
line and column (nothing is written to the shared demo database)."""
from __future__ import annotations

import io
import re

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from .conftest import csrf_of
from .test_org_scope import token_of

HEADER = "统一社会信用代码,企业名称,企业类型,行业,注册资本,成立日期,注册地,管户机构,经营状态\n"


def _rows(content: bytes) -> list[list]:
    ws = load_workbook(io.BytesIO(content)).worksheets[0]
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_the_template_from_the_import_page(rm):
    page = rm.get("/ui/e/company/import")
    assert 'href="/ui/e/company/template"' in page.text
    r = rm.get("/ui/e/company/template")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    book = load_workbook(io.BytesIO(r.content))
    ws = book.worksheets[0]
    assert ws.cell(row=1, column=1).value == "统一社会信用代码" and ws.cell(row=1, column=1).comment is not None
    assert any("存续" in (c.value or "") for row in book["_lists"].iter_rows() for c in row)
    assert ws.data_validations.dataValidation                              # the drop-downs


def test_the_export_follows_the_lists_filter_and_order(rm):
    listing = rm.get("/ui/e/company?status=operating&order=-registered_capital")
    assert "/ui/e/company/export?status=operating&amp;order=-registered_capital&amp;format=xlsx" in listing.text \
        or "/ui/e/company/export?order=-registered_capital&amp;status=operating&amp;format=xlsx" in listing.text
    shown = int(re.search(r'<span class="count">([\d,]+)</span>', listing.text).group(1).replace(",", ""))
    r = rm.get("/ui/e/company/export?format=xlsx&status=operating&order=-registered_capital")
    rows = _rows(r.content)
    header, body = rows[0], rows[1:]
    assert len(body) == shown and header[:2] == ["统一社会信用代码", "企业名称"]
    status, capital = header.index("经营状态"), header.index("注册资本")
    assert {row[status] for row in body} == {"存续"}
    capitals = [row[capital] for row in body]
    assert capitals == sorted(capitals, reverse=True)
    everything = _rows(rm.get("/ui/e/company/export?format=xlsx").content)
    assert len(everything) - 1 >= len(body)
    csv_text = rm.get("/ui/e/company/export?format=csv&status=operating").content
    assert csv_text.startswith(b"\xef\xbb\xbf") and len(csv_text.decode("utf-8-sig").splitlines()) == shown + 1
    bad = rm.get("/ui/e/company/export?format=csv&status=bankrupt")
    assert bad.status_code == 422 and "bankrupt" in bad.text


def test_a_gbk_upload_with_bad_rows_lists_every_problem_by_column(rm, admin):
    before = rm.get("/ui/e/company").text
    token = csrf_of(rm.get("/ui/e/company/import").text)
    bad = (HEADER + "91310101MA1FL0KX4C,甲,有限公司,制造业,3000万,2018/05/01,310101,sh_branch,存续\n"
           + "91310101MA1FL0KX4C,乙,有限责任公司,造船,三千万,2018年13月1日,310101,bj_branch,倒闭\n").encode("gbk")
    r = rm.post("/ui/e/company/import", data={"csrf_token": token},
                files={"file": ("成员单位.csv", bad, "text/csv")})
    assert r.status_code == 422
    cells = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", r.text)
    where = {(int(line), column) for line, column, _ in cells}
    assert {(2, "企业类型"), (3, "行业"), (3, "注册资本"), (3, "成立日期"), (3, "管户机构"), (3, "经营状态")} <= where
    assert all(message and "`" not in message for _, _, message in cells)
    assert "未导入任何记录" in r.text
    assert rm.get("/ui/e/company").text.count("<tr") == before.count("<tr")     # nothing was written


def test_the_json_api_imports_exports_and_gives_the_template(app, rm):
    api = TestClient(app, headers=token_of(rm))
    bad = (HEADER + "x,甲,有限公司,制造业,3000万,2018/05/01,310101,sh_branch,存续\n").encode("gbk")
    r = api.post("/records/company/import", files={"file": ("c.csv", bad, "text/csv")},
                 headers={"accept-language": "en"})
    assert r.status_code == 422, r.text
    assert r.json()["message"].startswith("1 of 1 row(s) have problems")
    detail = r.json()["detail"]
    assert {"row": 2, "column": "企业类型"}.items() <= next(d for d in detail if d["column"] == "企业类型").items()
    x = api.get("/records/company/export?format=csv&lang=en&status=operating")
    assert x.status_code == 200 and x.content.decode("utf-8-sig").startswith("Unified social credit code,Company name")
    raw = api.get("/records/company/export?format=csv&lang=raw").text
    assert raw.startswith("id,credit_code")
    t = api.get("/records/company/template?lang=en")
    assert t.status_code == 200 and _rows(t.content)[0][0] == "Unified social credit code"
