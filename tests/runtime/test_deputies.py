"""Out of office (代理): a person names a deputy for a period; while it runs, new tasks that would
go to them go to the deputy on their behalf (the deputy's decision is final and counts as theirs,
their veto too), the timeline says so, open tasks stay unless handed over, and four eyes hold."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from dsl.bank_time import bank_today
from runtime.auth.deputies import DeputyError, cancel_deputy, deputy_on, periods, set_deputy
from runtime.auth.tables import deputies
from runtime.cli.main import main
from runtime.flows.directory import put_people
from runtime.people.away import go_away
from runtime.storage.db import writing
from runtime.storage.tables import audit_log

from .flow_bank import Clock, make_bank
from .test_flow_service import CREDIT, act

TODAY = date(2026, 3, 2)          # flow_bank's T0, a Monday in Beijing


@pytest.fixture
def bank(engine):
    flows = make_bank(engine, Clock())
    with writing(engine) as conn:
        put_people(conn, [{"name": "vice", "display_name": "副行长"}])
    return flows


def away(engine, user="head", deputy="vice", starts="2026-03-01", ends="2026-03-06", **kw):
    return set_deputy(engine, user, deputy, starts, ends, today=TODAY, **kw)


def start(flows, amount=2):
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": amount * 10**8, **CREDIT})
    v = act(flows, v, "complete", "document_review", "officer", fields={"review_opinion": "complete"})
    return act(flows, v, "complete", "risk_assessment", "risk", fields={"risk_rating": "medium", "risk_opinion": "ok"})


def kinds(flows, v, kind):
    return [e for e in flows.timeline(v["id"]) if e["kind"] == kind]


def test_a_new_task_goes_to_the_deputy_on_behalf_and_their_decision_is_final(bank, engine):
    away(engine, reason="年假")
    v = start(bank)
    [task] = [t for t in v["tasks"] if t["node"] == "branch_approval"]
    assert (task["assignee"], task["owner"]) == ("vice", "head")
    assert [i["node"] for i in bank.inbox("vice")["items"]] == ["branch_approval"]
    [said] = kinds(bank, v, "deputised")
    assert said["data"] == {"user": "head", "deputy": "vice"} and said["actor"] == "system"
    v = act(bank, v, "approve", "branch_approval", "vice", comment="同意")
    # final: the request moves on to the head office, nothing comes back to the absent head
    assert v["current_nodes"] == ["head_office_review"] and [t["assignee"] for t in v["tasks"]] == ["ho_credit"]
    [approved] = kinds(bank, v, "approve")
    assert approved["actor"] == "vice" and approved["data"]["on_behalf_of"] == "head"
    [opinion] = [o for o in bank.opinions(v["id"]) if o["step"] == "branch_approval"]
    assert (opinion["person"], opinion["for"]) == ("vice", "head")


def test_the_deputy_may_return_the_request_as_the_absent_person_could(bank, engine):
    away(engine)
    v = start(bank)
    v = act(bank, v, "return", "branch_approval", "vice", to="initiator", comment="补充材料")
    assert [t["assignee"] for t in v["tasks"]] == ["rm"]


def test_open_tasks_stay_and_a_period_not_running_changes_nothing(bank, engine):
    v = start(bank)
    away(engine)                                   # set while head already holds the task
    assert [(t["assignee"], t["owner"]) for t in v["tasks"]] == [("head", None)]
    v = act(bank, v, "approve", "branch_approval", "head")
    assert v["current_nodes"] == ["head_office_review"]
    cancel_deputy(engine, "head", periods(engine, "head", today=TODAY)[0].id)
    away(engine, starts="2026-03-03", ends="2026-03-06")        # from tomorrow
    v = start(bank)
    assert [(t["assignee"], t["owner"]) for t in v["tasks"]] == [("head", None)]


def test_open_tasks_handed_over_when_the_person_chooses(bank, engine):
    v = start(bank)
    gone = go_away(bank, "head", "vice", "2026-03-02", "2026-03-06", today=TODAY, with_open_tasks=True)
    assert [t["node"] for t in gone.moved] == ["branch_approval"] and gone.kept == []
    v = bank.instance(v["id"])
    assert [t["assignee"] for t in v["tasks"]] == ["vice"]
    assert [e["data"]["to"] for e in kinds(bank, v, "transferred")] == ["vice"]


def test_four_eyes_a_deputy_who_started_the_request_does_not_get_it(bank, engine):
    away(engine, deputy="rm")                       # the initiator stands in for the branch head
    v = start(bank)
    assert [(t["assignee"], t["owner"]) for t in v["tasks"]] == [("head", None)]
    [skipped] = kinds(bank, v, "deputy_skipped")
    assert skipped["data"] == {"user": "head", "deputy": "rm", "why": "initiator"}


def test_a_deputy_already_on_the_step_is_not_counted_twice_and_a_veto_stays_a_veto(bank, engine):
    away(engine, user="m1", deputy="m2")            # m2 signs the committee in their own right
    away(engine, user="m3", deputy="vice")          # m3 holds the CRO's veto
    v = act(bank, start(bank, amount=8), "approve", "branch_approval", "head")
    committee = sorted((t["assignee"], t["owner"]) for t in v["tasks"] if t["node"] == "committee")
    assert committee == [("m1", None), ("m2", None), ("vice", "m3")]
    assert [e["data"]["why"] for e in kinds(bank, v, "deputy_skipped")] == ["on_step"]
    v = act(bank, v, "approve", "committee", "m1", fields={"approved_amount": 6 * 10**8})
    v = act(bank, v, "approve", "committee", "m2")
    v = act(bank, v, "reject", "committee", "vice", comment="集中度过高")     # the CRO's veto, by the deputy
    assert (v["status"], v["outcome"]) == ("finished", "rejected")
    [veto] = kinds(bank, v, "veto")
    assert veto["data"]["by"] == "m3"


def test_periods_are_checked_and_every_change_is_audited(bank, engine):
    cases = [({"deputy": "head"}, "self", "不能指定自己为代理人"),
             ({"starts": "2026-03-06", "ends": "2026-03-01"}, "bad_period", "早于开始日期"),
             ({"starts": "2026-02-01", "ends": "2026-02-27"}, "past", "已经过去"),
             ({"ends": "6 March"}, "bad_date", "YYYY-MM-DD"),
             ({"deputy": "nobody"}, "unknown", "nobody")]
    for kw, why, words in cases:
        with pytest.raises(DeputyError) as err:
            away(engine, **kw)
        assert err.value.key == f"auth.deputy.{why}" and words in err.value.render("zh"), why
        assert err.value.status == 422 and "Traceback" not in err.value.render("en")
    p = away(engine, by="tester")
    with pytest.raises(DeputyError) as err:
        away(engine, deputy="risk", starts="2026-03-05", ends="2026-03-09")
    assert err.value.key == "auth.deputy.overlap" and "vice" in err.value.render("zh")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(deputies)).scalar() == 1
        assert deputy_on(conn, "head", date(2026, 3, 6)) == "vice" and deputy_on(conn, "head", date(2026, 3, 7)) is None
    cancel_deputy(engine, "head", p.id, by="head")
    with engine.connect() as conn:
        actions = conn.execute(sa.select(audit_log.c.action, audit_log.c.actor).order_by(audit_log.c.seq)).all()
    assert [tuple(a) for a in actions[-2:]] == [("deputy_set", "tester"), ("deputy_cancel", "head")]
    with pytest.raises(DeputyError):
        cancel_deputy(engine, "head", p.id)


def test_the_cli_names_lists_and_cancels_a_deputy(bank, engine, db_url):
    today = bank_today()
    env = {"BANYAN_DATABASE_URL": db_url, "BANYAN_ACTOR": "tester", "BANYAN_LANG": "zh"}
    runner = CliRunner()
    r = runner.invoke(main, ["users", "deputy", "head", "--to", "vice", "--until", today.isoformat(),
                             "--reason", "出差"], env=env)
    assert r.exit_code == 0 and "vice stands in for head" in r.output, r.output
    r = runner.invoke(main, ["users", "deputy", "head"], env=env)
    assert r.exit_code == 0 and "vice" in r.output and "出差" in r.output
    r = runner.invoke(main, ["users", "deputy", "head", "--to", "head", "--until", today.isoformat()], env=env)
    assert r.exit_code != 0 and "不能指定自己为代理人" in r.output and "Traceback" not in r.output
    pid = periods(engine, "head", today=today)[0].id
    r = runner.invoke(main, ["users", "deputy", "head", "--cancel", str(pid)], env=env)
    assert r.exit_code == 0 and periods(engine, "head", today=today) == []
