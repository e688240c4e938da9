"""Due work under leases and the one scheduler: an item is claimed by one worker, run once,
retried after a failure; the scheduler runs every registered job; and the done-when scenario —
a subscriber sees a company change, schedules due work, and the work runs — with jobs APIs only."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from runtime.jobs import feed, leases, scheduler
from runtime.jobs.tables import db_now
from runtime.storage.db import make_engine, writing
from runtime.storage.migrate import upgrade

from .records_bundle import deploy


@pytest.fixture(autouse=True)
def own_registry(monkeypatch):
    """Each test has only the room's own jobs and registers its own subscribers and handlers."""
    monkeypatch.setattr(feed, "_subscribers", {})
    monkeypatch.setattr(leases, "_handlers", {})
    monkeypatch.setattr(scheduler, "_jobs", {k: v for k, v in scheduler._jobs.items() if k in ("feed", "due")})


@pytest.fixture
def db(engine):
    upgrade(engine)
    return engine


def put(engine, kind, key, due_at=None, **payload):
    with writing(engine) as conn:
        leases.schedule(conn, kind, key, due_at or db_now(), payload)


def test_schedule_is_an_upsert_and_cancel_takes_it_back(db):
    put(db, "scan", "t1", db_now() + timedelta(hours=1), n=1)
    put(db, "scan", "t1", db_now() - timedelta(seconds=1), n=2)
    [item] = leases.pending(db)
    assert (item["key"], item["payload"], item["attempts"]) == ("t1", '{"n":2}', 0)
    with writing(db) as conn:
        assert leases.cancel(conn, "scan", "t1") and not leases.cancel(conn, "scan", "t1")
    assert leases.pending(db) == []
    with writing(db) as conn, pytest.raises(ValueError, match="key of 1 to 200"):
        leases.schedule(conn, "scan", "", db_now())


def test_ensure_keeps_a_waiting_item_and_moves_one_whose_payload_changed(db):
    first = db_now() + timedelta(hours=1)
    with writing(db) as conn:
        leases.ensure(conn, "scan", "daily", first, {"schedule": "daily 06:00"})
        leases.ensure(conn, "scan", "daily", first + timedelta(hours=5), {"schedule": "daily 06:00"})
    [item] = leases.pending(db)
    assert item["due_at"] == first                       # the same schedule: its time is kept
    with writing(db) as conn:
        leases.ensure(conn, "scan", "daily", first + timedelta(hours=2), {"schedule": "daily 08:00"})
    [item] = leases.pending(db)
    assert item["due_at"] == first + timedelta(hours=2) and item["payload"] == '{"schedule":"daily 08:00"}'


def test_due_work_is_claimed_by_one_worker_until_its_lease_runs_out(db):
    put(db, "scan", "now", x=1)
    put(db, "scan", "later", db_now() + timedelta(minutes=3))
    put(db, "other", "now")
    [a] = leases.claim_due(db, "w1", ["scan"])
    assert (a.key, a.payload, a.attempts, a.claimed_by) == ("now", {"x": 1}, 1, "w1")
    assert leases.claim_due(db, "w2", ["scan"]) == []
    after = db_now() + leases.LEASE + timedelta(seconds=1)
    got = leases.claim_due(db, "w2", ["scan"], now=after)
    assert [(i.key, i.attempts) for i in got] == [("now", 2), ("later", 1)]
    with writing(db) as conn:
        assert not leases.done(conn, a)                         # w1's lease is gone: not its to finish
        assert leases.done(conn, got[0])
    assert [(i["kind"], i["key"]) for i in leases.pending(db)] == [("other", "now"), ("scan", "later")]


def test_concurrent_workers_never_claim_one_item_twice(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    with writing(engine) as conn:
        for i in range(80):
            leases.schedule(conn, "scan", f"k{i}", db_now() - timedelta(seconds=1), {})
    claimed: list[str] = []

    def work(name):
        while batch := leases.claim_due(engine, name, ["scan"], limit=7):
            claimed.extend(i.key for i in batch)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(f"k{i}" for i in range(80))
    engine.dispose()


def test_a_handler_runs_an_item_once_and_a_failure_is_retried_then_given_up(db):
    ran: list[str] = []

    def ok(conn, item):
        ran.append(item.key)
        leases.schedule(conn, "follow-up", item.key, db_now() + timedelta(days=1), {})

    def broken(conn, item):
        leases.schedule(conn, "follow-up", "never", db_now(), {})        # rolled back with the failure
        raise RuntimeError(f"cannot scan {item.key}")

    leases.handle("scan", ok)
    leases.handle("bad", broken, max_attempts=2)
    put(db, "scan", "a")
    put(db, "bad", "b")
    assert leases.run_once(db, "w") == 1 and ran == ["a"]
    assert leases.run_once(db, "w") == 0 and ran == ["a"]
    [bad] = leases.pending(db, "bad")
    assert bad["attempts"] == 1 and bad["last_error"] == "RuntimeError: cannot scan b" and bad["claimed_by"] is None
    assert [i["key"] for i in leases.pending(db, "follow-up")] == ["a"]
    assert leases.run_once(db, "w", now=db_now() + timedelta(minutes=1)) == 0
    assert leases.pending(db, "bad")[0]["attempts"] == 2
    assert leases.run_once(db, "w", now=db_now() + timedelta(days=1)) == 0     # given up after 2
    assert leases.pending(db, "bad")[0]["attempts"] == 2
    put(db, "bad", "b")                                                      # scheduled again: tried afresh
    leases.handle("bad", lambda conn, item: None)
    assert leases.run_once(db, "w") == 1 and leases.pending(db, "bad") == []


def test_an_item_scheduled_again_while_it_runs_is_kept(db):
    def reschedule(conn, item):
        leases.schedule(conn, "tick", item.key, db_now() + timedelta(hours=1), {"n": item.payload["n"] + 1})

    leases.handle("tick", reschedule)
    put(db, "tick", "clock", n=1)
    assert leases.run_once(db, "w") == 1
    [item] = leases.pending(db, "tick")
    assert item["payload"] == '{"n":2}' and item["attempts"] == 0


def test_an_outside_call_runs_outside_the_transaction(db):
    calls: list[str] = []
    leases.handle("ping", lambda engine, item: calls.append(item.key), transactional=False)
    put(db, "ping", "p")
    assert leases.run_once(db, "w") == 1 and calls == ["p"] and leases.pending(db) == []


def test_the_done_when_scenario_an_alert_like_subscriber_schedules_work_that_runs(engine):
    recs = deploy(engine)
    checked: list[tuple[str, str]] = []

    def watch_companies(conn, changes):                  # an alert rule: "capital changed"
        for c in changes:
            if c.op == "update" and "capital" in c.fields:
                leases.schedule(conn, "alert.check", f"capital:{c.record_key}", db_now(),
                                {"company": c.record_key, "seq": c.seq})

    def check(conn, item):                               # the job the alert scheduled
        checked.append((item.payload["company"], item.key))

    feed.subscribe("alerts", watch_companies, entities=["company"])
    leases.handle("alert.check", check)
    c = recs.create("company", {"code": "C100", "name": "Acme", "capital": 100}, actor="a")
    recs.update("company", c["id"], {"name": "Acme Ltd"}, actor="a")
    assert scheduler.run_once(engine, "w") == {"feed": 2, "due": 0} and checked == []
    recs.update("company", c["id"], {"capital": 500}, actor="a")
    assert scheduler.run_once(engine, "w") == {"feed": 1, "due": 1}
    assert checked == [("C100", "capital:C100")] and leases.pending(engine) == []
    assert scheduler.summary({"feed": 1, "due": None}) == "feed 1, due failed"


def test_the_scheduler_runs_every_job_in_the_background_and_once_per_process(db, monkeypatch):
    ran = threading.Event()
    seen: list[str] = []

    def job(engine, worker):
        seen.append(worker)
        ran.set()

    def broken(engine, worker):
        raise RuntimeError("a job that fails")

    scheduler.register_job("probe", 60, job)
    scheduler.register_job("broken", 60, broken)
    assert scheduler.run_once(db, "w")["broken"] is None and seen == ["w"]
    handle = scheduler.start(db, interval=0.05, worker="bg")
    try:
        assert scheduler.start(db) is handle and scheduler.running() is handle
        assert ran.wait(5)
        deadline = time.monotonic() + 5
        while seen.count("bg") < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert seen.count("bg") >= 2
        with pytest.raises(RuntimeError, match="another database"):
            scheduler.start(make_engine("sqlite://"))
    finally:
        handle.shutdown()
    assert scheduler.running() is None and not handle.running
    with pytest.raises(ValueError, match="more than 0"):
        scheduler.register_job("never", 0, job)


def test_serve_can_leave_the_jobs_to_separate_workers(monkeypatch):
    monkeypatch.delenv("BANYAN_FLOW_WORKER", raising=False)
    monkeypatch.setenv("BANYAN_SCHEDULER", "1")
    assert scheduler.enabled()
    monkeypatch.setenv("BANYAN_SCHEDULER", "0")
    assert not scheduler.enabled()
    monkeypatch.delenv("BANYAN_SCHEDULER")
    monkeypatch.setenv("BANYAN_FLOW_WORKER", "0")
    assert not scheduler.enabled()


def test_a_whole_pass_runs_the_draining_jobs_until_nothing_is_left(db):
    """`banyan worker --once`: one job hands work to another in batches; a whole pass finishes
    both, and a job that does not drain runs once."""
    queue, sent, checks = list(range(250)), [], []

    def produce(engine, worker):              # 100 at a time, like one outbox batch
        taken = queue[:100]
        del queue[:100]
        sent.extend(taken)
        return len(taken)

    def deliver(engine, worker):
        return 0

    def check(engine, worker):
        checks.append(worker)
        return 7                               # a count that is not work done: run once

    scheduler.register_job("probe-produce", 60, produce, drains=True)
    scheduler.register_job("probe-deliver", 60, deliver, drains=True)
    scheduler.register_job("probe-check", 60, check)
    try:
        out = scheduler.run_once(db, "w", whole=True)
        assert sent == list(range(250)) and out["probe-produce"] == 250 and checks == ["w"]
        queue.extend(range(10))
        assert scheduler.run_once(db, "w")["probe-produce"] == 10            # not whole: one batch
    finally:
        for name in ("probe-produce", "probe-deliver", "probe-check"):
            scheduler.unregister_job(name)
