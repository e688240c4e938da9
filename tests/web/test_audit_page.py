"""The auditor's view (issue 16, part 6): the read-only audit search page `/ui/audit` (filters, pages,
CSV/XLSX export with formula cells neutralised), `GET /audit`, a record's change history on its
page, personal data masked for the auditor — and a 403 in words for everyone without `audit.read`."""
from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from runtime.records.service import Records

from .browser import ARGS, CHROMIUM, LiveServer, needs_chromium, shot, sign_in
from .conftest import signed_in


def results(html: str) -> str:
    """The results table's rows (the filters list every action and person)."""
    return html.split('<table class="grid audit">', 1)[1].split("</table>", 1)[0]


@pytest.fixture(scope="module")
def auditor(app):
    return signed_in(app, "auditor_1")


@pytest.fixture(scope="module")
def a_person(engine) -> dict:
    items = Records(engine).query("person", {}, limit=1).items       # the operator: the stored values
    assert items and items[0]["id_number"], "the demo bank has persons with ID card numbers"
    return items[0]


def test_the_auditor_searches_the_log_by_name_and_in_words(auditor):
    page = auditor.get("/ui/audit")
    assert page.status_code == 200
    assert "审计日志" in page.text and 'href="/ui/audit"' in page.text            # the page, and in the menu
    assert "新建用户" in results(page.text) and "user_create" not in results(page.text)   # actions in words, not codes
    assert "韩雪" in page.text                                                  # people by name (the actor filter)


def test_everyone_else_gets_a_403_in_words(rm):
    page = rm.get("/ui/audit")
    assert page.status_code == 403 and "查看审计日志" in page.text and "audit.read" not in page.text
    assert rm.get("/ui/audit/export?format=csv").status_code == 403
    api = rm.get("/audit", headers={"accept-language": "en"})
    assert api.status_code == 403 and "read the audit log" in api.json()["message"]


def test_the_auditor_reads_records_and_writes_none(auditor, a_person):
    assert auditor.get(f"/ui/e/person/{a_person['id']}").status_code == 200
    assert auditor.get("/ui/e/person/new").status_code == 403
    assert auditor.patch(f"/records/person/{a_person['id']}", json={"name": "x"}).status_code == 403


def test_filters_by_action_entity_record_and_days(auditor, a_person, admin):
    created = auditor.get("/ui/audit", params={"action": "create", "entity": "person"})
    assert created.status_code == 200 and "新建" in results(created.text) and "新建用户" not in results(created.text)
    # a bulk create is one entry holding many records: found by any one of them, shown with its values
    one = auditor.get("/ui/audit", params={"entity": "person", "record": a_person["person_no"]})
    assert one.status_code == 200 and a_person["name"] in results(one.text) and "批量" in results(one.text)
    masked = a_person["id_number"][:4] + "*" * 10 + a_person["id_number"][-4:]
    assert masked in one.text and a_person["id_number"] not in one.text          # the auditor sees it masked
    none = auditor.get("/ui/audit", params={"from": "2000-01-01", "to": "2000-01-02"})
    assert "没有符合条件的审计记录" in none.text
    bad = auditor.get("/ui/audit", params={"from": "yesterday"})
    assert bad.status_code == 200 and "筛选条件不正确" in bad.text
    # the same filters through the API
    api = auditor.get("/audit", params={"entity": "person", "record": str(a_person["id"]), "action": "create"})
    assert api.status_code == 200
    body = api.json()
    assert body["total"] == 1 and a_person["id"] in body["items"][0]["record_ids"]
    changed = {c["field"]: c["after"] for c in body["items"][0]["changes"]}
    assert changed["id_number"] == masked
    assert auditor.get("/audit", params={"from": "2026-13-01"}).status_code == 422
    assert auditor.get("/audit", params={"limit": 0}).status_code == 422
    # the administrator sees the stored value in the log
    full = admin.get("/audit", params={"entity": "person", "record": str(a_person["id"]), "action": "create"}).json()
    assert {c["field"]: c["after"] for c in full["items"][0]["changes"]}["id_number"] == a_person["id_number"]


def test_paging(auditor):
    first = auditor.get("/audit", params={"limit": 2}).json()
    second = auditor.get("/audit", params={"limit": 2, "offset": 2}).json()
    assert first["total"] > 4 and len(first["items"]) == 2
    assert first["items"][0]["seq"] > first["items"][1]["seq"] > second["items"][0]["seq"]
    assert "2 /" in auditor.get("/ui/audit", params={"page": 2}).text
    far = auditor.get("/audit", params={"limit": 1, "offset": 2**63})      # past a 64-bit offset: a 422 in words
    assert far.status_code == 422 and "offset" in far.text
    assert auditor.get("/audit", params={"limit": 1, "offset": 2**63 - 1}).json()["items"] == []


def test_a_records_change_history_on_its_page(admin, auditor, a_person):
    page = admin.get(f"/ui/e/person/{a_person['id']}/edit")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": csrf, "_action": "save", "_version": str(a_person["version"])}
    for name, value in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page.text):
        form.setdefault(name, value)
    for name in ("role", "gender", "position", "relation"):
        if a_person.get(name):
            form[name] = a_person[name]
    form["name"] = a_person["name"] + "改"
    saved = admin.post(f"/ui/e/person/{a_person['id']}/edit", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:2000]
    shown = auditor.get(f"/ui/e/person/{a_person['id']}")
    assert "修改记录" in shown.text and "系统管理员" in shown.text
    assert f"姓名：{a_person['name']} → {a_person['name']}改" in shown.text
    assert f'/ui/audit?entity=person&amp;record={a_person["id"]}' in shown.text
    # the record itself: the ID card number masked for the auditor
    assert a_person["id_number"] not in shown.text
    assert a_person["id_number"][:4] + "*" * 10 + a_person["id_number"][-4:] in shown.text


def test_exports_of_the_filtered_entries(auditor, admin):
    admin.post("/records/person", json={"person_no": "P990001", "name": "=HYPERLINK(\"http://x\")",
                                         "role": "controller"})
    text = auditor.get("/ui/audit/export", params={"format": "csv", "entity": "person", "action": "create"}).text
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["序号", "时间", "操作人"]
    assert all(r[5] == "自然人" for r in rows[1:]) and len(rows) > 1
    assert "'=HYPERLINK" in text or "姓名：（空） → '=HYPERLINK" in text or "=HYPERLINK" not in text.split("\n", 1)[1] \
        or any(c.startswith("'=") for r in rows for c in r)
    assert not any(c.startswith("=") for r in rows for c in r)                   # never a live formula
    xlsx = auditor.get("/ui/audit/export", params={"format": "xlsx", "entity": "person"})
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.content))
    ws = wb.worksheets[0]
    assert [c.value for c in next(ws.iter_rows(max_row=1))][:3] == ["序号", "时间", "操作人"]
    assert ws.max_row > 1 and all(c.data_type != "f" for row in ws.iter_rows() for c in row)


@needs_chromium
def test_the_audit_page_in_chromium(app):
    from playwright.sync_api import sync_playwright  # only where Chromium is installed
    with LiveServer(app) as live, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_context(viewport={"width": 1360, "height": 900}, locale="zh-CN").new_page()
        sign_in(page, live.url, "auditor_1")
        page.goto(live.url + "/ui/audit")
        assert page.locator("h1").inner_text().startswith("审计日志")
        assert page.locator("table.audit tbody tr").count() > 0
        shot(page, "audit-zh")
        browser.close()


def test_the_edit_form_keeps_a_masked_value_it_shows_read_only(app, engine):
    """co_sh (credit officer: records.write, no personal.read) edits a Shanghai person."""
    records, users = Records(engine), app.state.web.users
    scope = app.state.web.scope(users.get("co_sh"))
    mine = [p for p in records.query("person", {}, limit=200, scope=scope).items
            if records.can_change("person", p["id"], scope)]
    assert mine, "the demo has a person the Shanghai credit officer may change"
    target = mine[0]
    stored = records.get("person", target["id"])["id_number"]
    client = signed_in(app, "co_sh")
    page = client.get(f"/ui/e/person/{target['id']}/edit")
    assert page.status_code == 200
    assert stored not in page.text and stored[:4] + "*" * 10 + stored[-4:] in page.text
    assert not re.search(r'<input[^>]*name="id_number"', page.text)            # shown, never sent back
    form = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1), "_action": "save",
            "_version": str(target["version"])}
    for name, value in re.findall(r'<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"', page.text):
        form.setdefault(name, value)
    for name in ("role", "gender", "position", "relation", "employer", "relative_of"):
        if target.get(name) is not None:
            form[name] = str(target[name])
    form["name"] = target["name"] + "乙"
    saved = client.post(f"/ui/e/person/{target['id']}/edit", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:3000]
    after = records.get("person", target["id"])
    assert after["name"] == target["name"] + "乙" and after["id_number"] == stored


def test_references_and_machines_read_as_names_in_a_history(engine, auditor):
    """The log holds a reference to another record as its id and a machine as a code
    (`tiering:NAME`, `alert:RULE`, `system`): the history names the record and says the machine in words."""
    records = Records(engine)
    person = records.query("person", {}, limit=1).items[0]
    firm = records.query("company", {}, limit=1).items[0]
    records.update("company", firm["id"], {"legal_representative": person["person_no"]}, actor="tiering:group_value_matrix")
    shown = auditor.get(f"/ui/e/company/{firm['id']}").text
    assert "法定代表人：" in shown and f"→ {person['name']}" in shown and f"→ {person['id']}<" not in shown
    assert "客户分层「集团客户价值矩阵」" in shown and "tiering:group_value_matrix" not in results_or(shown)


def results_or(html: str) -> str:
    """The history table of a record page (what people read), else the whole page."""
    return html.split("修改记录", 1)[-1]
