"""The dashboard's download of the large-exposure report (大额风险暴露) on the small bank of
tests/runtime/large_exposure_bank.py (SQLite, as the other page tests): a head-office risk manager
gets the whole bank's report; a Shanghai relationship manager — to whom the dashboard is open,
scoped like every figure on it — gets only their clients and the groups Shanghai leads; a visitor
who is not signed in gets the sign-in page, not the report."""
from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from examples.demo_bank.users import DEMO_PASSWORD
from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade
from runtime.web.app import create_app
from tests.runtime.large_exposure_bank import key, make

from .conftest import signed_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LINK = "/ui/dashboard/large-exposures.xlsx"


@pytest.fixture(scope="module")
def small_app(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('lex') / 'bank.db'}")
    upgrade(engine)
    records = make(engine)
    tree, store = OrgTree(records.live.bundle), UserStore(engine)
    for name, unit, role in (("risk_ho", "ho_risk_management_dept", "risk_manager"),
                             ("rm_sh", "sh_branch", "relationship_manager")):
        store.save(name, display_name=name, org_unit=unit, email=f"{name}@bank.test", password=DEMO_PASSWORD,
                   roles=[(role, unit)], tree=tree, new=True)
    yield create_app(engine)
    engine.dispose()


def sheets(response) -> dict[str, list[tuple]]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == XLSX
    assert "attachment" in response.headers["content-disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    return {ws.title: [r for r in ws.iter_rows(min_row=6, values_only=True) if r[0] is not None and
                       isinstance(r[0], int)] for ws in wb.worksheets}


def test_the_dashboard_links_the_report_and_a_risk_manager_downloads_the_whole_bank(small_app):
    risk = signed_in(small_app, "risk_ho")
    page = risk.get("/ui/dashboard")
    assert page.status_code == 200 and f'href="{LINK}"' in page.text and "大额风险暴露" in page.text
    got = sheets(risk.get(LINK))
    assert [r[2] for r in got["II 非同业单一客户"]] == [key("C"), key("A"), key("E")]
    assert [r[3] for r in got["II 非同业单一客户"]] == [160000, 120000, 100000]     # 万元, numbers
    assert [r[2] for r in got["III 非同业集团客户"]] == ["G0002", "G0001", "G0003"]
    en = risk.get(LINK + "?lang=en")
    assert "large-exposures" in en.headers["content-disposition"]
    assert "II Single clients" in load_workbook(io.BytesIO(en.content)).sheetnames


def test_a_relationship_manager_gets_their_part_only(small_app):
    rm = signed_in(small_app, "rm_sh")
    got = sheets(rm.get(LINK))
    assert [r[2] for r in got["II 非同业单一客户"]] == [key("C")]
    assert [r[2] for r in got["III 非同业集团客户"]] == ["G0002"]
    assert got["I 总体情况"] == []          # the summary's first column is text, not a rank
    wb = load_workbook(io.BytesIO(rm.get(LINK).content))
    summary = wb["I 总体情况"]
    assert [summary.cell(row=r, column=2).value for r in (6, 7)] == [1, 1]
    assert key("A") not in "".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row)


def test_no_report_without_signing_in(small_app):
    r = TestClient(small_app).get(LINK, follow_redirects=False)
    assert r.status_code in (302, 303, 401) and r.headers.get("content-type") != XLSX


def test_no_capital_on_record_is_a_page_in_words(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    upgrade(engine)
    records = make(engine, capital=False)
    UserStore(engine).save("risk_ho", display_name="risk_ho", org_unit="ho_risk_management_dept",
                           email="risk_ho@bank.test", password=DEMO_PASSWORD,
                           roles=[("risk_manager", "ho_risk_management_dept")], tree=OrgTree(records.live.bundle),
                           new=True)
    r = signed_in(create_app(engine), "risk_ho").get(LINK)
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "本行资本" in r.text and "Traceback" not in r.text
    engine.dispose()
