"""`banyan status` names the workers alive — each scheduler's heartbeat (runtime/jobs/heartbeat.py)
— and how far behind the background work is (the figures `/metrics` exposes): a worker seen
lately is listed, one silent too long is not, one stopped cleanly takes its row away; a flow
timer past due shows as late."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import sqlalchemy as sa
from click.testing import CliRunner

from runtime.cli.main import main
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.jobs import heartbeat, scheduler
from runtime.jobs.tables import db_now, workers

from .flow_bank import bundle


def _status(monkeypatch, db_url, *args):
    monkeypatch.setenv("BANYAN_DATABASE_URL", db_url)
    return CliRunner().invoke(main, ["status", *args])


def test_status_lists_the_workers_alive_and_the_backlog(engine, db_url, monkeypatch):
    DeploymentRegistry(engine).deploy(release_of(bundle()), author="test", message="status")
    out = _status(monkeypatch, db_url)
    assert out.exit_code == 0, out.output
    assert "workers: none seen in the last 60 s" in out.output and "backlog: flow timers on time" in out.output
    heartbeat.beat(engine, "host-a:1:abc", ["feed", "due"])
    heartbeat.beat(engine, "host-b:2:def", ["feed"])
    with engine.begin() as conn:                       # b has been silent for ten minutes; c for two days
        conn.execute(sa.update(workers).where(workers.c.name == "host-b:2:def")
                     .values(seen_at=db_now() - timedelta(minutes=10)))
        conn.execute(sa.insert(workers).values(name="host-c:3:ghi", host="c", pid=3, started_at=db_now(),
                                               seen_at=db_now() - timedelta(days=2), jobs="[]"))
    data = json.loads(_status(monkeypatch, db_url, "--format", "json").output)
    assert [w["name"] for w in data["workers"]] == ["host-a:1:abc"] and data["workers"][0]["jobs"] == ["due", "feed"]
    assert data["backlog"]["outbox_depth"] == 0 and data["backlog"]["timer_lag_seconds"] == 0
    text = _status(monkeypatch, db_url).output
    assert "workers: 1 alive" in text and "host-a:1:abc  seen" in text and "host-b" not in text
    heartbeat.beat(engine, "host-a:1:abc", ["feed", "due"])          # the next beat forgets c (gone a day)
    with engine.connect() as conn:
        assert sorted(conn.execute(sa.select(workers.c.name)).scalars()) == ["host-a:1:abc", "host-b:2:def"]
    heartbeat.gone(engine, "host-a:1:abc")
    assert heartbeat.live(engine) == []


def test_a_whole_pass_beats_and_leaves_no_heartbeat_behind(engine):
    DeploymentRegistry(engine).deploy(release_of(bundle()), author="test", message="status")
    seen: list[list[dict]] = []
    scheduler.register_job("look", 60, lambda e, w: seen.append(heartbeat.live(e)) or 0)
    try:
        results = scheduler.run_once(engine, "w-once", whole=True)
    finally:
        scheduler.unregister_job("look")
    assert results["heartbeat"] == 0
    assert [w["name"] for w in seen[0]] == ["w-once"] and "look" in seen[0][0]["jobs"]
    assert heartbeat.live(engine) == []                             # the pass is over


def test_a_running_scheduler_beats_and_stops_cleanly(engine):
    DeploymentRegistry(engine).deploy(release_of(bundle()), author="test", message="status")
    handle = scheduler.start(engine, worker="w-live")
    try:
        for _ in range(100):
            if heartbeat.live(engine):
                break
            time.sleep(0.1)
        assert [w["name"] for w in heartbeat.live(engine)] == ["w-live"]
    finally:
        handle.shutdown()
    assert heartbeat.live(engine) == []
