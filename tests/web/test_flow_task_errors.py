"""The task and instance pages answer a flow error as the flow API does (`FlowError.status`): a task that
does not exist or is out of reach is the same 404; any other refusal keeps its own status and
is said in words on the page — never a blanket 404, never the exception's text."""
from __future__ import annotations

import sqlalchemy as sa

from runtime.flows.tables import instances

from .conftest import signed_in
from .test_flow_pages import group, hidden, instance, outsider, task_of  # noqa: F401  (fixtures)


def test_an_unknown_task_is_not_found_like_one_out_of_reach(app, instance, outsider):
    co = signed_in(app, "co_sh")
    unknown = co.get(f"/ui/tasks/{instance['id']}/999999")
    hidden_one = signed_in(app, outsider).get(f"/ui/tasks/{task_of(instance, 'document_review')}")
    assert unknown.status_code == hidden_one.status_code == 404
    assert "此任务已处理完毕" in unknown.text and "此任务已处理完毕" in hidden_one.text


def test_a_task_whose_deployment_is_gone_keeps_the_flow_errors_status_and_words(app, engine, instance):
    co = signed_in(app, "co_sh")
    task = task_of(instance, "document_review")
    page = co.get(f"/ui/tasks/{task}").text
    with engine.begin() as conn:
        version = conn.execute(sa.select(instances.c.deployment_version)
                               .where(instances.c.id == instance["id"])).scalar()
        conn.execute(instances.update().where(instances.c.id == instance["id"]).values(deployment_version=99999))
    try:
        shown = co.get(f"/ui/tasks/{task}")
        assert shown.status_code == 409                         # `nothing_deployed`, as the flow API answers it
        assert "此任务暂时无法打开" in shown.text and "系统中没有这笔申请所用的部署版本" in shown.text
        assert "FlowError" not in shown.text and "Traceback" not in shown.text
        acted = co.post(f"/ui/tasks/{task}", data={"csrf_token": hidden(page, "csrf_token"), "_action": "complete",
                                                   "_request": hidden(page, "_request"), "review_opinion": "齐全"},
                        follow_redirects=False)
        assert acted.status_code == 409 and "系统中没有这笔申请所用的部署版本" in acted.text
        whole = co.get(f"/ui/flow-instances/{instance['id']}")
        assert whole.status_code == 409 and "这笔申请暂时无法打开" in whole.text
        assert co.get(f"/ui/flow-instances/{instance['id']}/graph.svg").status_code == 409
    finally:
        with engine.begin() as conn:
            conn.execute(instances.update().where(instances.c.id == instance["id"]).values(deployment_version=version))
    assert co.get(f"/ui/tasks/{task}").status_code == 200
    assert co.get(f"/ui/flow-instances/{instance['id']}").status_code == 200
