"""The change feed: one event per committed record change, written in the write's transaction,
handed to every subscriber once, in order, under a lease; a failing handler is retried."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from runtime.jobs import changes, feed, leases
from runtime.jobs.tables import db_now, feed_cursors
from runtime.records.errors import InvalidRecord, VersionConflict
from runtime.records.tabular import import_file
from runtime.storage.db import writing

from .records_bundle import deploy


@pytest.fixture(autouse=True)
def own_registry(monkeypatch):
    """Each test registers its own subscribers and due-work handlers."""
    monkeypatch.setattr(feed, "_subscribers", {})
    monkeypatch.setattr(leases, "_handlers", {})


def events(engine, after=0):
    with engine.connect() as conn:
        return changes.read(conn, after, limit=10_000)


def brief(evs):
    return [(e.entity, e.record_key, e.op, e.fields) for e in evs]


def test_every_write_appends_its_events_in_its_transaction(engine):
    recs = deploy(engine)
    recs.create("group", {"code": "G1", "name": "Group one"}, actor="alice")
    c = recs.create("company", {"code": "C100", "name": "Acme", "group": "G1", "capital": 1000, "debt": 10},
                    actor="alice")
    recs.update("company", c["id"], {"capital": 2000}, actor="bob")
    recs.update("company", c["id"], {"capital": 2000}, actor="bob")          # no change: no event
    recs.delete("company", c["id"], actor="carol")
    evs = events(engine)
    assert brief(evs) == [                     # a create or delete carries no field list: all fields
        ("group", "G1", "create", ()),
        ("company", "C100", "create", ()),
        ("group", "G1", "update", ("member_count", "total_capital")),       # computed up the collection
        ("company", "C100", "update", ("capital", "debt_ratio")),
        ("group", "G1", "update", ("total_capital",)),
        ("company", "C100", "delete", ()),
        ("group", "G1", "update", ("member_count", "total_capital")),
    ]
    assert [e.actor for e in evs] == ["alice"] * 3 + ["bob"] * 2 + ["carol"] * 2
    assert [e.seq for e in evs] == sorted(e.seq for e in evs)
    assert {e.record_id for e in evs if e.entity == "company"} == {c["id"]}
    assert {e.deployment_version for e in evs} == {recs.live.version} and evs[0].source is None


def test_a_rolled_back_write_leaves_no_event(engine):
    recs = deploy(engine)
    c = recs.create("company", {"code": "C100", "name": "Acme"}, actor="a")
    before = events(engine)
    with pytest.raises(InvalidRecord):
        recs.create("company", {"code": "C200"}, actor="a")                  # name is required
    with pytest.raises(VersionConflict):
        recs.update("company", c["id"], {"name": "B"}, actor="a", expected_version=7)
    with pytest.raises(RuntimeError):
        with writing(engine) as conn:
            recs.bulk_create("company", [{"code": "C300", "name": "C"}], actor="a", conn=conn)
            assert len(changes.read(conn, 0)) == len(before) + 1           # written in this transaction …
            raise RuntimeError("the caller fails later")
    assert events(engine) == before                                        # … and gone with it


def test_bulk_writes_and_imports_write_one_event_per_row(engine, tmp_path):
    recs = deploy(engine)
    src = tmp_path / "in.csv"
    src.write_text("code,name,capital\n" + "".join(f"C{100 + i},N{i},{i}\n" for i in range(25)), encoding="utf-8")
    assert import_file(recs, "company", src, actor="importer") == 25
    evs = events(engine)
    assert len(evs) == 25 and {(e.op, e.source, e.actor) for e in evs} == {("create", "import", "importer")}
    assert [e.record_key for e in evs] == [f"C{100 + i}" for i in range(25)]
    ids = [e.record_id for e in evs]
    assert recs.bulk_update("company", [(ids[0], {"name": "X"}), (ids[1], {"name": "N1"}), (ids[2], {"debt": 1})],
                            actor="b") == 2
    assert brief(events(engine, evs[-1].seq)) == [("company", "C100", "update", ("name",)),
                                                  ("company", "C102", "update", ("debt", "debt_ratio"))]
    with changes.source("flow:abc"):
        recs.create("company", {"code": "C900", "name": "Z"}, actor="c")
    assert events(engine)[-1].source == "flow:abc"


def test_a_bulk_write_shares_rows_and_readers_get_one_change_per_record(engine):
    """1,200 created companies are three feed rows (500 records at most in one); updates share a
    row while their field lists agree; a subscriber with a small batch still gets every change,
    in order, each once."""
    recs = deploy(engine)
    got: list[tuple[int, str]] = []
    feed.subscribe("copy", lambda conn, evs: got.extend((e.seq, e.record_key) for e in evs), batch=2)
    assert recs.bulk_create("company", [{"code": f"C{1000 + i}", "name": "N"} for i in range(1200)],
                            actor="bulk") == 1200
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT record_key, records FROM banyan_changes ORDER BY seq")).all()
    assert len(rows) == 3 and [r.record_key for r in rows] == ["C1000", "C1500", "C2000"]
    evs = events(engine)
    assert [e.record_key for e in evs] == [f"C{1000 + i}" for i in range(1200)]
    assert len({e.record_id for e in evs}) == 1200 and {e.op for e in evs} == {"create"}
    ids = [e.record_id for e in evs]
    top = evs[-1].seq
    recs.bulk_update("company", [(ids[0], {"name": "A"}), (ids[1], {"name": "B"}), (ids[2], {"debt": 1}),
                                 (ids[3], {"name": "C"})], actor="b")
    assert brief(events(engine, top)) == [("company", "C1000", "update", ("name",)),
                                          ("company", "C1001", "update", ("name",)),
                                          ("company", "C1002", "update", ("debt",)),
                                          ("company", "C1003", "update", ("name",))]
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM banyan_changes WHERE seq > :t"), {"t": top}).scalar() == 3
    while feed.run_once(engine, "w"):
        pass
    assert [k for _, k in got] == [e.record_key for e in events(engine)]
    assert [s for s, _ in got] == sorted(s for s, _ in got)


def test_two_subscribers_each_see_every_event_once_in_order(engine):
    recs = deploy(engine)
    seen: dict[str, list[int]] = {"all": [], "groups": []}
    feed.subscribe("all", lambda conn, evs: seen["all"].extend(e.seq for e in evs), batch=3)
    feed.subscribe("groups", lambda conn, evs: seen["groups"].extend(e.seq for e in evs), entities=["group"])
    recs.create("group", {"code": "G1", "name": "G"}, actor="a")
    for i in range(4):
        recs.create("company", {"code": f"C10{i}", "name": "N", "group": "G1"}, actor="a")
    assert feed.run_once(engine, "w1") == len(events(engine)) + 5       # 9 for "all", 5 group events
    idle = feed.status(engine)
    assert feed.run_once(engine, "w2") == 0 and feed.status(engine) == idle     # an idle poll writes nothing
    everything = [e.seq for e in events(engine)]
    assert seen["all"] == everything
    assert seen["groups"] == [e.seq for e in events(engine) if e.entity == "group"]
    recs.create("company", {"code": "C200", "name": "N"}, actor="a")
    assert feed.run_once(engine, "w2") == 1 and seen["all"][-1] == events(engine)[-1].seq
    state = {s["subscriber"]: s for s in feed.status(engine)}
    assert state["groups"]["last_seq"] == state["all"]["last_seq"] == everything[-1] + 1
    assert state["all"]["behind"] == 0 and state["all"]["claimed_by"] is None


def test_a_subscriber_held_by_one_worker_is_skipped_by_another(engine):
    recs = deploy(engine)
    got: list[tuple[str, int]] = []
    sub = feed.subscribe("audit-copy", lambda conn, evs: got.extend(("?", e.seq) for e in evs))
    recs.create("company", {"code": "C100", "name": "N"}, actor="a")
    assert feed._claim(engine, sub, "w1", None)                          # w1 holds it (and then crashes)
    assert feed.run_once(engine, "w2") == 0 and got == []
    later = db_now() + feed.LEASE + timedelta(seconds=1)
    assert feed.run_once(engine, "w2", now=later) == 1                   # the lease ran out


def test_concurrent_workers_handle_each_event_exactly_once(db_url):
    from runtime.storage.db import make_engine
    engine = make_engine(db_url)
    recs = deploy(engine)
    for chunk in range(12):                       # 12 writes of 5 records: 12 feed rows, 60 changes
        recs.bulk_create("company", [{"code": f"C{1000 + 5 * chunk + i}", "name": "N"} for i in range(5)], actor="a")

    def handler(conn, evs):                       # a database effect per change: a due item keyed by it
        for e in evs:
            leases.schedule(conn, "copy", f"{e.seq}:{e.record_id}", db_now() + timedelta(days=1),
                            {"key": f"{e.seq}:{e.record_id}"})

    feed.subscribe("copier", handler, batch=5)
    counts: list[int] = []

    def work(name):
        for _ in range(10):
            counts.append(feed.run_once(engine, name))

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 60
    keys = [item["key"] for item in leases.pending(engine, "copy")]
    assert sorted(keys) == sorted(f"{e.seq}:{e.record_id}" for e in events(engine)) and len(keys) == 60
    engine.dispose()


def test_a_failing_handler_is_retried_and_does_not_advance(engine):
    recs = deploy(engine)
    calls: list[list[int]] = []
    fail = {"on": True}

    def handler(conn, evs):
        calls.append([e.seq for e in evs])
        leases.schedule(conn, "effect", "x", db_now(), {})                 # rolled back with the failure
        if fail["on"]:
            raise ValueError("the alert rule cannot be read")

    feed.subscribe("flaky", handler)
    recs.create("company", {"code": "C100", "name": "N"}, actor="a")
    assert feed.run_once(engine, "w1") == 0
    [state] = feed.status(engine)
    assert state["last_seq"] == 0 and state["attempts"] == 1 and state["claimed_by"] is None
    assert state["last_error"] == "ValueError: the alert rule cannot be read" and state["behind"] == 1
    assert leases.pending(engine) == []
    assert feed.run_once(engine, "w1") == 0 and len(calls) == 1           # waits for its retry time
    later = db_now() + timedelta(minutes=2)
    assert feed.run_once(engine, "w2", now=later) == 0
    assert feed.status(engine)[0]["attempts"] == 2
    fail["on"] = False
    assert feed.run_once(engine, "w2", now=db_now() + timedelta(hours=2)) == 1
    [state] = feed.status(engine)
    assert (state["last_seq"], state["attempts"], state["last_error"]) == (calls[0][0], 0, None)
    assert calls == [calls[0]] * 3 and len(leases.pending(engine)) == 1


def test_a_poison_event_can_be_skipped(engine):
    recs = deploy(engine)
    seen: list[str] = []

    def handler(conn, evs):
        for e in evs:
            if e.record_key == "C100":
                raise ValueError("cannot handle C100")
            seen.append(e.record_key)

    feed.subscribe("picky", handler, batch=1)
    recs.create("company", {"code": "C100", "name": "N"}, actor="a")
    recs.create("company", {"code": "C200", "name": "N"}, actor="a")
    assert feed.run_once(engine, "w") == 0
    poison = events(engine)[0].seq
    feed.skip(engine, "picky", poison)
    assert feed.run_once(engine, "w") == 1 and seen == ["C200"]
    with pytest.raises(ValueError, match="no subscriber"):
        feed.skip(engine, "nobody", 5)


def test_a_late_subscriber_may_start_at_the_newest_event(engine):
    recs = deploy(engine)
    recs.create("company", {"code": "C100", "name": "N"}, actor="a")
    got: list[str] = []
    feed.subscribe("fresh", lambda conn, evs: got.extend(e.record_key for e in evs), from_start=False)
    assert feed.run_once(engine, "w") == 0
    recs.create("company", {"code": "C200", "name": "N"}, actor="a")
    assert feed.run_once(engine, "w") == 1 and got == ["C200"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(feed_cursors)).scalar() == 1


def test_prune_keeps_what_a_subscriber_has_not_read(engine):
    recs = deploy(engine)
    feed.subscribe("slow", lambda conn, evs: None, entities=["group"], batch=1)
    for i in range(3):
        recs.create("company", {"code": f"C10{i}", "name": "N"}, actor="a")
    with writing(engine) as conn:
        conn.execute(sa.text("UPDATE banyan_changes SET at = :t"), {"t": db_now() - timedelta(days=90)})
    feed.run_once(engine, "w")                                           # reads all three (none is a group)
    assert feed.prune(engine) == 3 and events(engine) == []
    recs.create("company", {"code": "C200", "name": "N"}, actor="a")
    assert events(engine)[0].seq == 4                                    # a seq is never reused


def test_a_batch_undone_by_a_deadlock_runs_again_at_the_next_turn(engine):
    """PostgreSQL undoes one transaction of a deadlock (two workers' writes crossing): the batch did
    nothing wrong, so it is neither counted as a failure nor put off by the back-off."""
    recs = deploy(engine)
    calls: list[int] = []

    class Deadlock(Exception):
        sqlstate = "40P01"

    def handler(conn, evs):
        calls.append(len(evs))
        if len(calls) == 1:
            raise sa.exc.OperationalError("UPDATE e_group …", {}, Deadlock("deadlock detected"))

    feed.subscribe("racing", handler)
    recs.create("company", {"code": "C100", "name": "N"}, actor="a")
    assert feed.run_once(engine, "w1") == 0
    [state] = feed.status(engine)
    assert (state["attempts"], state["retry_at"], state["claimed_by"], state["behind"]) == (0, None, None, 1)
    assert feed.run_once(engine, "w2") == 1 and calls == [1, 1]


def test_on_sqlite_a_long_backlog_leaves_gaps_for_other_writers(engine, monkeypatch):
    """SQLite's write lock goes to whoever polls first, so a backlog handled batch after batch
    would shut every other writer out (a sign-in timed out behind a seeded bank's changes): the
    feed pauses between its batches there — and only there, and not after the last one."""
    recs = deploy(engine)
    for i in range(7):                                       # seven writes: seven rows of the feed
        recs.create("company", {"code": f"C{3000 + i}", "name": "N"}, actor="ann")
    feed.subscribe("slow", lambda conn, evs: None, batch=2)
    gaps: list[float] = []
    monkeypatch.setattr(feed.time, "sleep", gaps.append)
    assert feed.run_once(engine, "w") == 7                  # batches of 2, 2, 2, 1
    assert gaps == ([feed.SQLITE_GAP] * 3 if engine.dialect.name == "sqlite" else [])
