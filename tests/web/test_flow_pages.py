"""The approval pages without a browser: who sees and who acts, CSRF, the idempotency key (a
double submit acts once), the instance version (stale → "someone acted first"), the step's
field permissions and actions, bad input answered with the page and a 4xx, the nav badge, and
the flow API's reads checked like the pages."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.flows.tables import instances
from runtime.records.service import Records

from .conftest import signed_in

FORM = {"credit_type": "new", "amount": Decimal("200000000"), "term_months": 12, "products": ["working_capital"],
        "purpose": "营运资金", "guarantee_mode": "credit"}


@pytest.fixture(scope="module")
def group(engine) -> str:
    return Records(engine).query("group", {"lead_branch": "sh_branch"}, limit=1).items[0]["code"]


@pytest.fixture(scope="module")
def outsider(app, engine) -> str:
    """A relationship manager of the Beijing branch: outside the Shanghai group's scope."""
    store = UserStore(engine)
    if store.get("rm_bj_test") is None:
        store.save("rm_bj_test", display_name="北京测试", org_unit="bj_branch", password="banyan-demo-2026",
                   roles=[("relationship_manager", "bj_branch")], tree=OrgTree(Records(engine).live.bundle), new=True)
    return "rm_bj_test"


@pytest.fixture
def instance(app, group) -> dict:
    return app.state.flow_pages.service.start("group_credit_approval", actor="rm_sh_01", subject=group, form=FORM)


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def task_of(view: dict, node: str) -> str:
    return next(t["id"] for t in view["tasks"] if t["node"] == node)


def post_action(client, url: str, page: str, **data):
    base = {"csrf_token": hidden(page, "csrf_token"), "_request": hidden(page, "_request"),
            "_version": hidden(page, "_version")}
    return client.post(url, data={**base, **data}, follow_redirects=False)


def version_of(app, instance_id: str) -> int:
    return app.state.flow_pages.service.instance(instance_id, with_timeline=False)["version"]


def test_the_inbox_lists_the_task_with_counts_and_the_badge(app, instance):
    co = signed_in(app, "co_sh")
    page = co.get("/ui/inbox").text
    task = task_of(instance, "document_review")
    assert f'href="/ui/tasks/{task}"' in page
    counts = dict(re.findall(r'data-box="(\w+)">[^<]*<span class="count[^"]*">(\d+)', page))
    assert set(counts) == {"mine", "pool", "cc", "overdue", "done", "started"} and int(counts["mine"]) >= 1
    assert re.search(r'class="badge">(\d+)<', page)
    started = signed_in(app, "rm_sh_01").get("/ui/inbox?box=started").text
    assert f'/ui/flow-instances/{instance["id"]}' in started
    assert co.get("/ui/inbox?box=nonsense").status_code == 200          # an unknown box is the to-do box


def test_the_task_page_follows_the_steps_field_permissions_and_actions(app, instance):
    co = signed_in(app, "co_sh")
    task = task_of(instance, "document_review")
    page = co.get(f"/ui/tasks/{task}").text
    assert 'name="review_opinion"' in page                                # editable at this step
    assert 'name="amount"' not in page and "¥200,000,000.00" in page      # read-only: shown, not an input
    assert 'name="approved_amount"' not in page                          # another step's field: read-only
    assert re.findall(r'name="_action" value="(\w+)"', page) == ["save", "refresh", "complete", "return",
                                                                  "transfer", "comment"]
    assert "value=\"approve\"" not in page and "add_signer" not in page   # not allowed at this step


def test_complete_needs_the_steps_required_fields_and_a_double_click_acts_once(app, instance):
    co = signed_in(app, "co_sh")
    task = task_of(instance, "document_review")
    url = f"/ui/tasks/{task}"
    page = co.get(url).text
    before = version_of(app, instance["id"])
    refused = post_action(co, url, page, _action="complete", comment="好")
    assert refused.status_code == 422 and "此项必填" in refused.text
    assert version_of(app, instance["id"]) == before
    page = refused.text
    first = post_action(co, url, page, _action="complete", review_opinion="资料齐全")
    second = post_action(co, url, page, _action="complete", review_opinion="资料齐全")   # the same key again
    assert first.status_code == second.status_code == 303
    after = app.state.flow_pages.service.instance(instance["id"])
    assert after["version"] == before + 1
    assert [e["kind"] for e in after["timeline"]].count("complete") == 1
    assert after["form"]["review_opinion"] == "资料齐全"


def test_a_stale_page_says_someone_acted_first_and_changes_nothing(app, instance):
    co, rm = signed_in(app, "co_sh"), signed_in(app, "rm_sh_01")
    task = task_of(instance, "document_review")
    page = co.get(f"/ui/tasks/{task}").text
    inst_page = rm.get(f"/ui/flow-instances/{instance['id']}").text
    said = rm.post(f"/ui/flow-instances/{instance['id']}",
                   data={"csrf_token": hidden(inst_page, "csrf_token"), "_action": "comment", "text": "补充了财报",
                         "_request": re.findall(r'name="_request" value="(\w+)"', inst_page)[-1],
                         "_version": hidden(inst_page, "_version")}, follow_redirects=False)
    assert said.status_code == 303
    version = version_of(app, instance["id"])
    stale = post_action(co, f"/ui/tasks/{task}", page, _action="complete", review_opinion="齐全")
    assert stale.status_code == 409 and "其他人已先处理" in stale.text
    assert version_of(app, instance["id"]) == version
    assert f'name="_version" value="{version}"' in stale.text               # the page is redrawn fresh


def test_nobody_acts_on_anothers_task(app, instance):
    task = task_of(instance, "document_review")
    head = signed_in(app, "head_sh")                                       # sees it (org scope), does not hold it
    page = head.get(f"/ui/tasks/{task}").text
    assert "不在您名下" in page and 'value="complete"' not in page
    before = version_of(app, instance["id"])
    co_page = signed_in(app, "co_sh").get(f"/ui/tasks/{task}").text
    forged = head.post(f"/ui/tasks/{task}", data={"csrf_token": hidden(page, "csrf_token"),
                                                   "_request": hidden(co_page, "_request"), "_action": "complete",
                                                   "review_opinion": "我来批"}, follow_redirects=False)
    assert forged.status_code == 403 and "不是您的任务" in forged.text
    assert version_of(app, instance["id"]) == before


def test_an_instance_outside_your_reach_is_not_found(app, instance, outsider):
    other = signed_in(app, outsider)
    task = task_of(instance, "document_review")
    for path in (f"/ui/flow-instances/{instance['id']}", f"/ui/tasks/{task}",
                 f"/ui/flow-instances/{instance['id']}/graph.svg", f"/flow-instances/{instance['id']}",
                 f"/flow-tasks/{task}", f"/flows/group_credit_approval/graph.svg?instance={instance['id']}"):
        assert other.get(path).status_code == 404, path
    page = other.get("/ui/inbox").text
    assert other.post(f"/ui/tasks/{task}", data={"csrf_token": hidden(page, "csrf_token"), "_action": "complete"},
                      follow_redirects=False).status_code == 404
    # the JSON API's command alike, byte for byte what an unknown instance gets, and nothing done
    csrf, before = {"X-CSRF-Token": hidden(page, "csrf_token")}, version_of(app, instance["id"])
    hidden_one = other.post(f"/flow-instances/{instance['id']}/complete", json={"task": task}, headers=csrf)
    unknown = other.post("/flow-instances/X0/complete", json={"task": task}, headers=csrf)
    assert hidden_one.status_code == unknown.status_code == 404
    assert hidden_one.content == unknown.content.replace(b"X0", str(instance["id"]).encode())
    assert version_of(app, instance["id"]) == before
    mine = signed_in(app, "rm_sh_01")
    assert mine.get(f"/flow-instances/{instance['id']}").status_code == 200
    assert mine.get(f"/ui/flow-instances/{instance['id']}/graph.svg").headers["content-type"].startswith("image/svg")
    assert mine.post("/flows/group_credit_approval/migrations", json={"to_version": 1},
                     headers={"X-CSRF-Token": hidden(page, "csrf_token")}).status_code in (401, 403)


def test_without_the_csrf_token_nothing_happens(app, instance):
    co = signed_in(app, "co_sh")
    task = task_of(instance, "document_review")
    before = version_of(app, instance["id"])
    r = co.post(f"/ui/tasks/{task}", data={"_action": "complete", "review_opinion": "x"}, follow_redirects=False)
    assert r.status_code == 403 and version_of(app, instance["id"]) == before


def test_return_offers_only_the_legal_targets_and_a_forged_target_is_refused(app, instance):
    service = app.state.flow_pages.service
    view = service.act(instance["id"], "complete", actor="co_sh", task=task_of(instance, "document_review"),
                       fields={"review_opinion": "齐全"})
    task = task_of(view, "risk_assessment")
    holder = next(t for t in view["tasks"] if t["id"] == task)["assignee"]
    client = signed_in(app, holder)
    page = client.get(f"/ui/tasks/{task}").text
    ret = page.split('id="act-return"')[1].split("</form>")[0]
    assert re.findall(r'<option value="(\w+)"', ret) == ["initiator", "document_review"]
    r = post_action(client, f"/ui/tasks/{task}", page, _action="return", to="branch_approval", comment="请核实")
    assert r.status_code == 422 and "不能退回到该环节" in r.text
    r = post_action(client, f"/ui/tasks/{task}", r.text, _action="transfer", to="no_such_person")
    assert r.status_code == 422 and "没有这些用户" in r.text


def test_starting_checks_the_form_and_the_subject(app, engine, group):
    rm = signed_in(app, "rm_sh_01")
    page = rm.get(f"/ui/start/group_credit_approval?subject={group}").text
    count = lambda: engine.connect().execute(sa.select(sa.func.count()).select_from(instances)).scalar()  # noqa: E731
    before = count()
    base = {"csrf_token": hidden(page, "csrf_token"), "_request": hidden(page, "_request"), "subject": group}
    bad = rm.post("/ui/start/group_credit_approval", data={**base, "_action": "save", "amount": "一亿"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    nobody = rm.post("/ui/start/group_credit_approval", data={**base, "subject": "G9999", "_action": "save"})
    assert nobody.status_code == 404
    assert rm.get("/ui/start/group_credit_approval?subject=G9999").status_code == 404
    preview = rm.post("/ui/start/group_credit_approval",
                      data={**base, "_action": "preview", "amount": "8亿", "credit_type": "new"})
    assert preview.status_code == 200 and "孙建国" in preview.text            # the committee, for 8亿
    assert count() == before
    assert rm.get("/ui/start/no_such_flow").status_code == 404
    assert "集团统一授信审批" in rm.get("/ui/start").text
    assert "重大风险事件处置" not in rm.get("/ui/start").text                  # a risk manager's flow
