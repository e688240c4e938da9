"""Record pages generated from the IR: scope, create with field errors, edit, import, export."""
from __future__ import annotations

import re

import pytest

from dsl.expr.uscc import check_character

from .conftest import csrf_of, signed_in

FIRST17 = "91310115MA1H7WXY8"
GOOD_CODE = FIRST17 + check_character(FIRST17)
BAD_CODE = FIRST17 + ("0" if GOOD_CODE[-1] != "0" else "1")


def company_form(code: str, **extra) -> dict:
    return {"credit_code": code, "name": "浦江测试科技有限公司", "legal_form": "limited_liability",
            "industry": "information_technology", "registered_capital": "5000万", "established_on": "2015-06-01",
            "region": "310115", "branch": "sh_branch", "status": "operating", "listed": "", "_action": "save", **extra}


def total(page: str) -> int:
    return int(re.search(r'<span class="count">([\d,]+)</span>', page).group(1).replace(",", ""))


def test_scope_branch_sees_its_subtree(app, rm, admin):
    assert 0 < total(rm.get("/ui/e/company").text) < total(admin.get("/ui/e/company").text)
    other = admin.get("/ui/e/company?branch=bj_branch").text
    first = re.search(r'href="/ui/e/company/(\d+)"', other)
    if first:                                                   # a Beijing company is invisible in Shanghai
        assert rm.get(f"/ui/e/company/{first.group(1)}").status_code == 404
    assert total(signed_in(app, "committee_1").get("/ui/e/company").text) == total(admin.get("/ui/e/company").text)


def test_create_company_with_field_errors_then_success(rm):
    page = rm.get("/ui/e/company/new")
    token = csrf_of(page.text)
    r = rm.post("/ui/e/company/new", data={"csrf_token": token, **company_form(BAD_CODE, listed="true")})
    assert r.status_code == 422
    assert '<p class="bf-error" id="f-credit_code-error" aria-live="polite" data-bf-error>统一社会信用代码校验位不正确</p>' in r.text
    assert '<p class="bf-error" id="f-ticker-error" aria-live="polite" data-bf-error>此项必填</p>' in r.text
    assert f'value="{BAD_CODE}"' in r.text
    r = rm.post("/ui/e/company/new", data={"csrf_token": token, **company_form(GOOD_CODE, listed="true",
                                                                                ticker="688001.SH")},
                follow_redirects=False)
    assert r.status_code == 303
    detail = rm.get(r.headers["location"])
    assert "浦江测试科技有限公司" in detail.text and "688001.SH" in detail.text and "已创建" in detail.text
    again = rm.post("/ui/e/company/new", data={"csrf_token": token, **company_form(GOOD_CODE)})
    assert again.status_code == 422 and "已被其他记录使用" in again.text      # the service's unique rule, per field
    # a form problem (a bad date) and a service-only one (the code is taken): both at once
    both = rm.post("/ui/e/company/new", data={"csrf_token": token, **company_form(GOOD_CODE, established_on="明年")})
    assert both.status_code == 422
    assert 'id="f-established_on-error"' in both.text and "已被其他记录使用" in both.text


def test_a_branch_cannot_place_records_elsewhere(rm):
    token = csrf_of(rm.get("/ui/e/company/new").text)
    code = "91110108MA01AB2C3"
    r = rm.post("/ui/e/company/new", data={"csrf_token": token, **company_form(code + check_character(code),
                                                                                branch="bj_branch")})
    assert r.status_code == 422 and "不在您的可见范围内" in r.text


def test_edit_with_version_and_conflict(rm):
    listing = rm.get("/ui/e/company?q=" + GOOD_CODE)
    rid = re.search(r'href="/ui/e/company/(\d+)"', listing.text).group(1)
    form = rm.get(f"/ui/e/company/{rid}/edit").text
    version = re.search(r'name="_version" value="(\d+)"', form).group(1)
    data = {"csrf_token": csrf_of(form), "_version": version, **company_form(GOOD_CODE, address="上海市浦东新区")}
    assert rm.post(f"/ui/e/company/{rid}/edit", data=data, follow_redirects=False).status_code == 303
    stale = rm.post(f"/ui/e/company/{rid}/edit", data=data)
    assert stale.status_code == 409


def test_list_search_filters_paging(admin):
    page = admin.get("/ui/e/company?industry=energy&order=-registered_capital")
    assert page.status_code == 200 and 'aria-sort="descending"' in page.text
    assert admin.get("/ui/e/company?page=2").status_code == 200
    assert admin.get("/ui/e/company?industry=nope").status_code == 422
    assert admin.get("/ui/e/nothing_here").status_code == 404


def test_import_reports_every_problem_then_imports(rm, admin):
    page = rm.get("/ui/e/person/import")
    token = csrf_of(page.text)
    header = "person_no,name,role,gender\n"
    bad = header + "P900001,,shareholder,male\nP900002,张三,shareholder,unknown\n"
    r = rm.post("/ui/e/person/import", data={"csrf_token": token}, files={"file": ("p.csv", bad.encode(), "text/csv")})
    assert r.status_code == 422 and "<tr><td>2</td><td>name</td>" in r.text
    assert "<tr><td>3</td><td>gender</td>" in r.text
    before = total(admin.get("/ui/e/person").text)
    assert before == total(admin.get("/ui/e/person").text)                    # nothing was written
    # a person sits in the org tree through their employer: a branch may not import people it could never see
    nowhere = header + "P900001,李四,shareholder,male\n"
    r = rm.post("/ui/e/person/import", data={"csrf_token": token}, files={"file": ("p.csv", nowhere.encode(), "text/csv")})
    assert r.status_code == 422 and "<tr><td>2</td><td>" in r.text and "可见范围" in r.text
    mine = rm.get("/ui/e/company/export?format=csv").text.strip().splitlines()[1].split(",")[0]
    good = ("person_no,name,role,gender,employer\n"
            f"P900001,李四,shareholder,male,{mine}\nP900002,张三,shareholder,female, {mine} \n")
    r = rm.post("/ui/e/person/import", data={"csrf_token": token}, files={"file": ("p.csv", good.encode(), "text/csv")})
    assert r.status_code == 200 and "已导入 2 条记录" in r.text
    assert total(admin.get("/ui/e/person").text) == before + 2
    assert "李四" in rm.get("/ui/e/person?q=P900001").text                      # and the branch sees them
    assert rm.post("/ui/e/person/import", data={"csrf_token": token},
                   files={"file": ("p.exe", b"x", "application/octet-stream")}).status_code == 422


def test_export_is_scoped(rm, admin):
    mine = rm.get("/ui/e/company/export?format=csv").text.strip().splitlines()
    everyone = admin.get("/ui/e/company/export?format=csv").text.strip().splitlines()
    assert mine[0].startswith("\ufeff统一社会信用代码,企业名称") and 1 < len(mine) < len(everyone)
    x = admin.get("/ui/e/company/export?format=xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"


def test_lookup_and_try_form(rm):
    found = rm.get("/ui/lookup/org_unit?q=浦东").json()
    assert found == [{"key": "sh_pudong_sub_branch", "label": "上海浦东支行"}] or found[0]["key"].startswith("sh_")
    assert rm.get("/ui/lookup/org_unit?q=北京").json() == []               # outside the scope
    page = rm.get("/ui/forms/credit_application")
    data = {"csrf_token": csrf_of(page.text), "_action": "save", "credit_type": "new", "amount": "5亿",
            "term_months": "12", "products": "working_capital", "purpose": "周转", "guarantee_mode": "credit",
            "collateral_description": "应被清除", "urgent": "", "urgent_reason": "保留",
            "sub_limits.0.borrower": GOOD_CODE, "sub_limits.0.amount": "1亿"}
    r = rm.post("/ui/forms/credit_application", data=data)
    assert r.status_code == 200 and "全部规则校验通过" in r.text
    assert "应被清除" not in r.text and "保留" in r.text


def test_an_exported_formula_stays_text(rm, admin):
    """Issue 16, part 10: a company address `=HYPERLINK(…)` is no live formula in XLSX or CSV."""
    import io

    from openpyxl import load_workbook
    listing = rm.get("/ui/e/company?q=" + GOOD_CODE)
    rid = re.search(r'href="/ui/e/company/(\d+)"', listing.text).group(1)
    form = rm.get(f"/ui/e/company/{rid}/edit").text
    version = re.search(r'name="_version" value="(\d+)"', form).group(1)
    evil = '=HYPERLINK("http://example.invalid","点我")'
    data = {"csrf_token": csrf_of(form), "_version": version, **company_form(GOOD_CODE, address=evil)}
    assert rm.post(f"/ui/e/company/{rid}/edit", data=data, follow_redirects=False).status_code == 303
    csv_text = rm.get("/ui/e/company/export?format=csv").text
    assert "'" + evil.replace('"', '""') in csv_text and ',"=HYPERLINK' not in csv_text
    book = load_workbook(io.BytesIO(rm.get("/ui/e/company/export?format=xlsx").content))
    cells = [c for row in book.active.iter_rows() for c in row if c.value == evil]
    assert cells and all(c.data_type == "s" for c in cells)           # text, not a formula ("f")


@pytest.mark.parametrize("name,content,says", [
    ("p.xlsx", b"this is no workbook", "不是可读取的 .xlsx 工作簿"),      # was BadZipFile: a 500
    ("p.csv", b"person_no,name\nP900009,\x81\x20\n", "既不是 UTF-8 也不是 GBK"),  # was "(UnicodeDecodeError)"
])
def test_an_unreadable_upload_is_a_clear_problem(rm, name, content, says):
    page = rm.get("/ui/e/person/import")
    r = rm.post("/ui/e/person/import", data={"csrf_token": csrf_of(page.text)},
                files={"file": (name, content, "application/octet-stream")})
    assert r.status_code == 422 and "Error" not in r.text and "Traceback" not in r.text
    assert says in r.text
