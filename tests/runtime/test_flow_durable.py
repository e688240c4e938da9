"""Durability of the flow runtime (SQLite and PostgreSQL): idempotent requests, optimistic
concurrency, illegal commands that change nothing, timers fired once by racing workers, the
outbox delivered once, version pinning, migration plans, route preview."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from dsl.compiler import compile_texts
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of, source_texts
from runtime.flows.service import FlowService
from runtime.flows.store import FlowError, db_time, load, save
from runtime.flows.tables import events, instances, requests, tasks, timers
from runtime.flows.worker import FlowWorker
from runtime.jobs.outbox_tables import notifications, outbox
from runtime.storage.db import make_engine, writing
from runtime.storage.tables import audit_log

from .flow_bank import Clock, bundle, make_bank
from .test_flow_service import CREDIT, act, task_of

TABLES = (instances, events, tasks, timers, outbox, requests, audit_log)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def flows(engine, clock):
    return make_bank(engine, clock)


def start(flows, amount=8 * 10**8, **kw):
    return flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": amount, **CREDIT}, **kw)


def snapshot(engine) -> dict:
    with engine.connect() as conn:
        return {t.name: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr) for t in TABLES}


def refused(flows, engine, fn, code: str, status: int) -> None:
    before = snapshot(engine)
    with pytest.raises(FlowError) as err:
        fn()
    assert (err.value.code, err.value.status) == (code, status), err.value.message
    assert snapshot(engine) == before


def test_a_request_id_reused_with_another_body_is_a_conflict_not_a_replay(flows, engine):
    first = start(flows, request_id="req-b")
    # the same command (start this flow about this group) with another form is another request
    refused(flows, engine, lambda: start(flows, amount=9 * 10**8, request_id="req-b"), "request_reused", 409)
    assert start(flows, request_id="req-b") == first
    t = task_of(first, "document_review")
    done = flows.act(first["id"], "complete", actor="officer", task=t, fields={"review_opinion": "ok"},
                     request_id="req-c")
    refused(flows, engine, lambda: flows.act(first["id"], "complete", actor="officer", task=t,
                                             fields={"review_opinion": "changed"}, request_id="req-c"),
            "request_reused", 409)
    assert flows.act(first["id"], "complete", actor="officer", task=t, fields={"review_opinion": "ok"},
                     request_id="req-c") == done


def test_a_request_id_stored_before_fingerprints_is_matched_by_its_command(flows, engine):
    first = start(flows, request_id="req-old")
    with writing(engine) as conn:
        conn.execute(requests.update().values(fingerprint=""))
    assert start(flows, amount=9 * 10**8, request_id="req-old") == first


def test_the_same_request_id_gives_the_first_answer_and_does_nothing_twice(flows, engine):
    first = start(flows, request_id="req-1")
    again = start(flows, request_id="req-1")
    assert again == first
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(instances)).scalar() == 1
    t = task_of(first, "document_review")
    done = flows.act(first["id"], "complete", actor="officer", task=t, fields={"review_opinion": "ok"},
                     request_id="req-2")
    assert flows.act(first["id"], "complete", actor="officer", task=t, fields={"review_opinion": "ok"},
                     request_id="req-2") == done
    assert [e["kind"] for e in flows.timeline(first["id"])].count("complete") == 1
    refused(flows, engine, lambda: flows.act(first["id"], "comment", actor="officer", text="hi", request_id="req-2"),
            "request_reused", 409)


def test_stale_versions_and_concurrent_writes_are_409(flows, engine):
    v = start(flows)
    t = task_of(v, "document_review")
    refused(flows, engine, lambda: flows.act(v["id"], "complete", actor="officer", task=t, expected_version=0,
                                             fields={"review_opinion": "ok"}), "stale_version", 409)
    flows.act(v["id"], "complete", actor="officer", task=t, expected_version=1, fields={"review_opinion": "ok"})
    # two writers read version 2; the first write wins, the second is refused by the version check
    with engine.connect() as conn:
        a, b = load(conn, v["id"]), load(conn, v["id"])
    with writing(engine) as conn:
        save(conn, a, _bumped(a.state), flows.clock())
    with pytest.raises(FlowError) as err, writing(engine) as conn:
        save(conn, b, _bumped(b.state), flows.clock())
    assert err.value.code == "conflict" and err.value.status == 409


def _bumped(state):
    import dataclasses
    return dataclasses.replace(state, version=state.version + 1)


def test_illegal_commands_change_nothing(flows, engine):
    v = start(flows)
    t = task_of(v, "document_review")
    refused(flows, engine, lambda: flows.act(v["id"], "complete", actor="risk", task=t), "not_assignee", 403)
    refused(flows, engine, lambda: flows.act(v["id"], "complete", actor="officer", task=t), "invalid_form", 422)
    refused(flows, engine, lambda: flows.act(v["id"], "approve", actor="officer", task=t), "action_not_allowed", 422)
    refused(flows, engine, lambda: flows.act(v["id"], "fly", actor="officer"), "unknown_action", 422)
    refused(flows, engine, lambda: flows.act(v["id"], "transfer", actor="officer", task=t), "invalid", 422)
    refused(flows, engine, lambda: flows.act("nope", "cancel", actor="rm"), "not_found", 404)
    refused(flows, engine, lambda: flows.start("group_credit_approval", actor="officer", subject="G0001", form={}),
            "not_allowed", 403)
    refused(flows, engine, lambda: flows.start("no_flow", actor="rm", subject="G0001"), "unknown_flow", 404)
    refused(flows, engine, lambda: flows.start("group_credit_approval", actor="rm", subject="G9999"),
            "unknown_subject", 404)
    v = reviews_to_committee(flows, v)
    m1 = task_of(v, "committee", "m1")
    v = flows.act(v["id"], "approve", actor="m1", task=m1, fields={"approved_amount": 10**8})
    refused(flows, engine, lambda: flows.act(v["id"], "approve", actor="m1", task=m1), "task_closed", 409)
    refused(flows, engine, lambda: flows.act(v["id"], "approve", actor="m1", task=f"{v['id']}/999"), "unknown_task", 404)
    refused(flows, engine, lambda: flows.act(v["id"], "return", actor="m2", task=task_of(v, "committee", "m2"),
                                             to="document_review"), "illegal_target", 422)
    refused(flows, engine, lambda: flows.act(v["id"], "withdraw", actor="officer", node="document_review"),
            "withdraw_too_late", 409)


def reviews_to_committee(flows, v):
    v = act(flows, v, "complete", "document_review", "officer", fields={"review_opinion": "ok"})
    v = act(flows, v, "complete", "risk_assessment", "risk", fields={"risk_rating": "medium", "risk_opinion": "ok"})
    return act(flows, v, "approve", "branch_approval", "head")


def test_two_workers_racing_fire_each_due_timer_once(flows, engine, clock, db_url):
    for _ in range(4):
        start(flows, amount=10**8)
    with engine.connect() as conn:
        due = conn.execute(sa.select(sa.func.count()).select_from(timers)).scalar()
    assert due == 12                                          # remind, deadline, escalate per instance
    clock.tick(days=10)
    engines = [make_engine(db_url) for _ in range(2)]
    workers = [FlowWorker(FlowService(e, clock=clock), name=f"w{i}", batch=3) for i, e in enumerate(engines)]
    fired = [0, 0]
    barrier = threading.Barrier(2)

    def run(i):
        barrier.wait()
        for _ in range(10):
            fired[i] += workers[i].run_timers()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for e in engines:
        e.dispose()
    with engine.connect() as conn:
        fired_events = conn.execute(sa.select(events.c.instance_id, events.c.data)
                                    .where(events.c.kind == "timer")).all()
        left = conn.execute(sa.select(timers.c.due_at)).scalars().all()
    keys = [tuple(r) for r in fired_events]
    assert sum(fired) == len(keys) >= 12 and len(set(keys)) == len(keys)    # (instance, kind, level) once each
    assert all(at > db_time(clock.now) for at in left)          # only re-armed, future ones left


def test_outbox_messages_are_delivered_once(flows, engine, clock):
    v = start(flows, amount=2 * 10**8)
    v = reviews_to_committee(flows, v)
    act(flows, v, "approve", "head_office_review", "ho_credit", fields={"approved_amount": 10**8})
    sent = []

    class Recorder:
        def send(self, message, engine):
            sent.append((message.channel.name, message.recipient.name, message.kind))
    w1 = FlowWorker(flows, name="a", senders={"email": Recorder()})
    w2 = FlowWorker(flows, name="b", senders={"email": Recorder()})
    assert w1.deliver() + w2.deliver() + w1.deliver() > 0
    with engine.connect() as conn:
        pending = conn.execute(sa.select(sa.func.count()).select_from(outbox)
                               .where(outbox.c.sent_at.is_(None))).scalar()
        n_out = conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar()
        n_msg = conn.execute(sa.select(sa.func.count()).select_from(notifications)).scalar()
    assert pending == 0 and len(sent) == len(set(sent)) and ("email", "rm", "flow_finished") in sent
    assert n_msg == n_out - len(sent)
    assert [m["template"] for m in flows.messages("rm")] == ["flow_finished"]


def test_a_failing_sender_is_retried_later(flows, engine, clock):
    v = start(flows, amount=2 * 10**8)
    v = reviews_to_committee(flows, v)
    act(flows, v, "approve", "head_office_review", "ho_credit", fields={"approved_amount": 10**8})

    class Down:
        def send(self, *args):
            raise ConnectionError("smtp down")
    FlowWorker(flows, name="a", senders={"email": Down()}).deliver()
    with engine.connect() as conn:
        failed = conn.execute(sa.select(outbox.c.attempts, outbox.c.last_error)
                              .where(outbox.c.channel == "email")).all()
    assert failed and all(a == 1 and "smtp down" in e for a, e in failed)
    clock.tick(minutes=2)
    assert FlowWorker(flows, name="b").deliver() == len(failed)


def _v2_bundle():
    texts = source_texts(bundle().sources)
    texts = {k: t.replace("document_review", "documents") for k, t in texts.items()}
    result = compile_texts(texts)
    assert result.ok, [d.message for d in result.diagnostics]
    return result.bundle


def test_instances_stay_on_their_version_and_move_by_a_checked_plan(flows, engine):
    old = start(flows)
    DeploymentRegistry(engine).deploy(release_of(_v2_bundle()), author="test", message="rename a step")
    new = start(flows)
    assert (old["deployment_version"], new["deployment_version"]) == (1, 2)
    assert old["current_nodes"] == ["document_review"] and new["current_nodes"] == ["documents"]
    plan = flows.migrate("group_credit_approval", 2, {}, actor="ops")
    assert not plan["ok"] and plan["problems"][0]["node"] == "document_review" and not plan["applied"]
    bad = flows.migrate("group_credit_approval", 2, {"document_review": "branch_approval"}, actor="ops")
    assert "task" in bad["problems"][0]["problem"] and "approval" in bad["problems"][0]["problem"]
    refused(flows, engine, lambda: flows.migrate("group_credit_approval", 2, {}, actor="ops", dry_run=False),
            "invalid_migration", 422)
    ok = flows.migrate("group_credit_approval", 2, {"document_review": "documents"}, actor="ops", dry_run=False)
    assert ok["applied"] and [m["instance"] for m in ok["instances"]] == [old["id"]]
    moved = flows.instance(old["id"])
    assert moved["deployment_version"] == 2 and moved["current_nodes"] == ["documents"]
    assert moved["timeline"][-1]["kind"] == "migrated"
    moved = flows.act(old["id"], "complete", actor="officer", task=task_of(moved, "documents"),
                      fields={"review_opinion": "ok"})
    assert moved["current_nodes"] == ["risk_assessment"]


def test_route_preview_says_who_would_approve_and_writes_nothing(flows, engine):
    before = snapshot(engine)
    big = flows.preview("group_credit_approval", actor="rm", subject="G0001", form={"amount": 8 * 10**8, **CREDIT})
    assert [(s["node"], s["assignees"]) for s in big["steps"]] == [
        ("document_review", ["officer"]), ("risk_assessment", ["risk"]), ("branch_approval", ["head"]),
        ("committee", ["m1", "m2", "m3"])]
    assert big["outcome"] == "approved" and big["steps"][-1]["mode"] == "ratio"
    small = flows.preview("group_credit_approval", actor="rm", subject="G0001", form={"amount": 10**8, **CREDIT})
    assert small["steps"][-1]["node"] == "head_office_review" and small["steps"][-1]["assignees"] == ["ho_credit"]
    # a draft is read like a start: "8亿" is eight hundred million, a value not readable yet is left out
    typed = flows.preview("group_credit_approval", actor="rm", subject="G0001", form={"amount": "8亿", **CREDIT})
    assert [s["node"] for s in typed["steps"]] == [s["node"] for s in big["steps"]]
    draft = flows.preview("group_credit_approval", actor="rm", subject="G0001", form={"amount": "八亿", "bogus": 1})
    assert "steps" in draft
    no = flows.preview("group_credit_approval", actor="officer", subject="G0001", form={})
    assert no["stopped"]["code"] == "not_allowed" and no["steps"] == []
    assert snapshot(engine) == before


def test_a_command_asks_which_deployment_is_live_once(flows, engine):
    """A command reads its subject and counts its deadlines on the business calendar of the live
    deployment: it asks the database which one that is once (runtime/deploy/live.one_look), not
    once for each (three times before)."""
    v = start(flows)
    t = task_of(v, "document_review")
    looks: list[str] = []

    def seen(conn, cursor, statement, *args):
        if "live_version" in statement:
            looks.append(statement)
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        v = act(flows, v, "complete", "document_review", "officer", fields={"review_opinion": "ok"})
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert t not in {x["id"] for x in v["tasks"]}
    assert len(looks) == 1, looks
