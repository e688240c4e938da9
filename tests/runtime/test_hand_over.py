"""客户移交: a departing person's clients (relationship_manager of groups and companies) and open
flow tasks move to another person in one audited transaction — all of it, or nothing — from the
service, and from `banyan users hand-over`."""
from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from runtime.auth.deputies import set_deputy
from runtime.cli.main import main
from runtime.flows.directory import put_people
from runtime.jobs.tables import changes
from runtime.people.hand_over import HandOverError, hand_over
from runtime.records.service import Records
from runtime.storage.db import writing
from runtime.storage.tables import audit_log

from .flow_bank import Clock, company_key, make_bank
from .test_flow_service import CREDIT, act


@pytest.fixture
def bank(engine):
    flows = make_bank(engine, Clock())
    with writing(engine) as conn:
        put_people(conn, [{"name": "head2", "display_name": "新行长"}])
    records = Records(engine)
    group = records.find("group", "G0001")
    records.update("group", group["id"], {"relationship_manager": "head"}, actor="test")
    c2 = records.find("company", company_key("C2"))
    records.update("company", c2["id"], {"relationship_manager": "head"}, actor="test")
    return flows


def at_branch_head(flows, actor="rm"):
    v = flows.start("group_credit_approval", actor=actor, subject="G0001", form={"amount": 2 * 10**8, **CREDIT})
    v = act(flows, v, "complete", "document_review", "officer", fields={"review_opinion": "complete"})
    return act(flows, v, "complete", "risk_assessment", "risk", fields={"risk_rating": "medium", "risk_opinion": "ok"})


def managers(engine):
    records = Records(engine)
    return (records.find("group", "G0001")["relationship_manager"],
            records.find("company", company_key("C2"))["relationship_manager"])


def test_clients_and_open_tasks_move_in_one_audited_action(bank, engine):
    v = at_branch_head(bank)
    done = hand_over(bank, "head", "head2", by="admin", reason="调岗")
    assert sorted((r["entity"], r["field"]) for r in done.records) == [("company", "relationship_manager"),
                                                                       ("group", "relationship_manager")]
    assert [t["node"] for t in done.tasks] == ["branch_approval"] and done.problems == []
    assert managers(engine) == ("head2", "head2")
    v = bank.instance(v["id"])
    assert [t["assignee"] for t in v["tasks"]] == ["head2"]
    [moved] = [e for e in bank.timeline(v["id"]) if e["kind"] == "transferred"]
    assert moved["actor"] == "head" and moved["data"]["to"] == "head2" and "调岗" in moved["data"]["comment"] \
        and "admin" in moved["data"]["comment"]
    v = act(bank, v, "approve", "branch_approval", "head2")            # the new person decides
    assert v["current_nodes"] == ["head_office_review"]
    with engine.connect() as conn:
        fed = conn.execute(sa.select(changes.c.entity, changes.c.actor, changes.c.source)
                           .where(changes.c.source == "hand-over").order_by(changes.c.entity)).all()
        summary = conn.execute(sa.select(audit_log.c.actor, audit_log.c.after)
                               .where(audit_log.c.action == "hand_over")).all()
    assert [tuple(r) for r in fed] == [("company", "admin", "hand-over"), ("group", "admin", "hand-over")]
    assert len(summary) == 1 and summary[0].actor == "admin"
    assert json.loads(summary[0].after)["to"] == "head2"


def test_a_dry_run_shows_what_would_move_and_changes_nothing(bank, engine):
    v = at_branch_head(bank)
    plan = hand_over(bank, "head", "head2", by="admin", dry_run=True)
    assert len(plan.records) == 2 and [t["task"] for t in plan.tasks] == [v["tasks"][0]["id"]]
    assert managers(engine) == ("head", "head")
    assert [t["assignee"] for t in bank.instance(v["id"])["tasks"]] == ["head"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(changes)
                            .where(changes.c.source == "hand-over")).scalar() == 0


def test_one_task_that_cannot_move_stops_everything(bank, engine):
    at_branch_head(bank)                        # the head's task on rm's request: rm may not approve it
    with pytest.raises(HandOverError) as err:
        hand_over(bank, "head", "rm", by="admin")
    assert err.value.key == "people.hand_over.refused" and "未作任何更改" in err.value.render("zh")
    [problem] = err.value.detail("en")
    assert problem["type"] == "four_eyes" and "rm started this request" in problem["msg"]
    assert managers(engine) == ("head", "head")                 # the records did not move either
    plan = hand_over(bank, "head", "rm", by="admin", dry_run=True)
    assert [p["code"] for p in plan.problems] == ["four_eyes"]


def test_a_task_held_on_someone_s_behalf_stays(bank, engine):
    set_deputy(engine, "head", "officer", "2026-03-02", "2026-03-03", today=date(2026, 3, 2))
    v = at_branch_head(bank)
    assert [(t["assignee"], t["owner"]) for t in v["tasks"]] == [("officer", "head")]
    done = hand_over(bank, "officer", "head2", by="admin")       # the officer stands in for the head: that stays
    assert done.tasks == [] and [(k["why"], k["owner"]) for k in done.kept] == [("on_behalf", "head")]


@pytest.mark.parametrize("args, key", [(("head", "head"), "same"), (("head", "nobody"), "unknown"),
                                       (("ghost", "head2"), "unknown")])
def test_bad_people_are_refused(bank, args, key):
    with pytest.raises(HandOverError) as err:
        hand_over(bank, *args, by="admin")
    assert err.value.key == f"people.hand_over.{key}"


def test_the_cli_dry_run_then_hand_over(bank, engine, db_url):
    at_branch_head(bank)
    env = {"BANYAN_DATABASE_URL": db_url, "BANYAN_ACTOR": "tester", "BANYAN_LANG": "zh"}
    runner = CliRunner()
    r = runner.invoke(main, ["users", "hand-over", "head", "head2", "--dry-run"], env=env)
    assert r.exit_code == 0 and "would move 2 client record(s) and 1 open task(s)" in r.output, r.output
    assert "group G0001" in r.output and managers(engine) == ("head", "head")
    r = runner.invoke(main, ["users", "hand-over", "head", "rm"], env=env)
    assert r.exit_code == 1 and "无法移交给 rm" in r.output and "Traceback" not in r.output
    assert "发起人" in r.output                                   # the task's own reason, in the reader's language
    r = runner.invoke(main, ["users", "hand-over", "head", "head2", "--as", "nobody"], env=env)
    assert r.exit_code != 0 and "no user `nobody`" in r.output
    r = runner.invoke(main, ["users", "hand-over", "head", "head2"], env=env)
    assert r.exit_code == 0 and "moved 2 client record(s)" in r.output and managers(engine) == ("head2", "head2")


def test_the_departing_person_s_own_application_returned_to_them_stays(bank, engine):
    v = at_branch_head(bank)
    v = act(bank, v, "return", "branch_approval", "head", to="initiator", comment="补充材料")
    done = hand_over(bank, "rm", "head2", by="admin")
    assert done.tasks == [] and [k["why"] for k in done.kept] == ["initiator"]
    assert [t["assignee"] for t in bank.instance(v["id"])["tasks"]] == ["rm"]
