"""The people picker (issue 12, "Pages"): /ui/people searches the people one may pick — active
users, the asker aside — by name, user name, unit or role, each with the unit's and the roles'
names; /ui/people/units is the org tree with how many sit in each unit, /ui/people?unit= a unit's
people. The task page's transfer, delegate, add-signer and CC inputs are plain inputs with a
datalist of the same people (no JavaScript needed) and post user names."""
from __future__ import annotations

import re

from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.records.service import Records

from .conftest import signed_in
from .test_flow_pages import FORM, group, hidden, post_action, task_of  # noqa: F401 - group is a fixture


def _names(answer) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [p["name"] for p in answer.json()["people"]]


def test_search_by_name_user_name_unit_and_role(app):
    co = signed_in(app, "co_sh")
    found = co.get("/ui/people", params={"q": "陈思远"}).json()["people"]
    assert found == [{"name": "rm_sh_01", "label": "陈思远", "unit": "sh_branch", "unit_label": "上海分行",
                      "roles": ["客户经理"]}]
    assert set(_names(co.get("/ui/people", params={"q": "committee_"}))) == {"committee_1", "committee_2", "committee_3"}
    assert set(_names(co.get("/ui/people", params={"q": "贷审会委员"}))) == {"committee_1", "committee_2", "committee_3"}
    by_unit = set(_names(co.get("/ui/people", params={"q": "上海分行"})))
    assert {"rm_sh_01", "head_sh", "risk_sh"} <= by_unit and "rm_bj_01" not in by_unit
    assert "co_sh" not in by_unit                                            # the asker is not offered
    assert _names(co.get("/ui/people", params={"q": "没有这个人"})) == []
    assert _names(co.get("/ui/people")) == []                                # nothing asked, nothing listed


def test_a_disabled_user_cannot_be_picked(app, engine):
    store = UserStore(engine)
    if store.get("picker_gone") is None:
        store.save("picker_gone", display_name="离职测试员", org_unit="sh_branch", password="banyan-demo-2026",
                   roles=[("credit_officer", "sh_branch")], tree=OrgTree(Records(engine).live.bundle), new=True)
    co = signed_in(app, "co_sh")
    assert _names(co.get("/ui/people", params={"q": "离职测试员"})) == ["picker_gone"]
    store.set_active("picker_gone", False)
    assert _names(co.get("/ui/people", params={"q": "离职测试员"})) == []
    assert "picker_gone" not in _names(co.get("/ui/people", params={"unit": "sh_branch"}))


def test_the_org_tree_lists_units_with_their_people(app):
    co = signed_in(app, "co_sh")
    units = co.get("/ui/people/units").json()
    by = {u["unit"]: u for u in units}
    assert by["head_office"]["depth"] == 0 and by["sh_branch"]["label"] == "上海分行"
    people = co.get("/ui/people", params={"unit": "sh_branch"}).json()["people"]
    assert by["sh_branch"]["count"] == len(people) and "rm_sh_01" in [p["name"] for p in people]
    assert all(p["unit"] == "sh_branch" for p in people)


def test_the_lookup_needs_a_signed_in_person(app):
    from fastapi.testclient import TestClient
    r = TestClient(app).get("/ui/people", params={"q": "陈"}, follow_redirects=False)
    assert r.status_code in (303, 401) and "陈思远" not in r.text


def test_the_task_page_picks_people_without_javascript_and_posts_user_names(app, group):  # noqa: F811
    view = app.state.flow_pages.service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=FORM)
    co = signed_in(app, "co_sh")
    url = f"/ui/tasks/{task_of(view, 'document_review')}"
    page = co.get(url).text
    transfer = page.split('id="act-transfer"')[1].split("</form>")[0]
    assert re.search(r'<input id="transfer-to" name="to"[^>]*list="people-list"[^>]*data-picker="single"', transfer)
    datalist = page.split('<datalist id="people-list">')[1].split("</datalist>")[0]
    options = dict(re.findall(r'<option value="([^"]+)">([^<]+)</option>', datalist))
    assert options["rm_sh_01"] == "陈思远 · 上海分行 · 客户经理" and "co_sh" not in options
    assert '<script src="/static/picker.js" defer></script>' in page
    r = post_action(co, url, page, _action="transfer", to="head_sh", comment="请马行长审核")
    assert r.status_code == 303, r.text
    after = app.state.flow_pages.service.instance(view["id"], with_timeline=False)
    assert next(t for t in after["tasks"] if t["node"] == "document_review")["assignee"] == "head_sh"
    assert hidden(page, "_version")


def test_the_instance_page_copies_people_in_with_the_same_picker(app, group):  # noqa: F811
    view = app.state.flow_pages.service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=FORM)
    rm = signed_in(app, "rm_sh_01")
    url = f"/ui/flow-instances/{view['id']}"
    page = rm.get(url).text
    cc = page.split('id="inst-cc"')[1].split("</form>")[0]
    assert re.search(r'<input id="inst-cc-users" name="users"[^>]*list="people-list"[^>]*data-picker="multi"', cc)
    assert "选择人员" in cc or "人员" in cc
    datalist = page.split('<datalist id="people-list">')[1].split("</datalist>")[0]
    assert "co_sh" in datalist and '<script src="/static/picker.js" defer></script>' in page
    assert '<link rel="stylesheet" href="/static/picker.css">' in page
    r = post_action(rm, url, page, _action="cc", users="co_sh,legal_sh")
    assert r.status_code == 303, r.text
    timeline = rm.get(url).text
    assert "刘敏" in timeline

def test_everyone_is_listed_in_a_few_queries_whatever_their_number(app):
    """The picker lists the whole directory: three queries, not three per person."""
    import sqlalchemy as sa

    store = app.state.web.users
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)
    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        everyone = store.list()
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)
    assert len(everyone) > 10 and len(statements) <= 3
    assert everyone == [store.get(u.name) for u in everyone]          # the same people, one by one
    assert [u.name for u in everyone] == sorted(u.name for u in everyone)
