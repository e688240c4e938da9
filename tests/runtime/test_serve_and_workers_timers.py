"""A documented deployment on one PostgreSQL schema: two `banyan serve` processes (each running the
jobs beside its server, as a one-process serve does) and two `banyan worker` processes, all real
subprocesses racing for the same due flow timers. Every timer due when they start fires exactly
once (one timeline event per timer firing, none twice), none due is left, and each serve stops
with exit 0 on SIGTERM."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from runtime.flows.store import db_time
from runtime.flows.tables import events, timers
from runtime.jobs.tables import db_now
from runtime.storage.db import make_engine

from .conftest import fresh_pg_schema
from .flow_bank import Clock, make_bank
from .test_flow_durable import start
from .test_serve_workers import free_port, wait_ready

ROOT = Path(__file__).resolve().parents[2]
BANYAN = Path(sys.executable).parent / "banyan"
INSTANCES = 6
SETTLE_TIMEOUT = 150


def _state(engine) -> tuple[int, list[tuple], int]:
    """(timers due now, the timer events as (instance, data), every timer row)."""
    with engine.connect() as conn:
        due = conn.execute(sa.select(sa.func.count()).select_from(timers).where(timers.c.due_at <= db_now())).scalar()
        fired = [tuple(r) for r in conn.execute(sa.select(events.c.instance_id, events.c.data)
                                                .where(events.c.kind == "timer")).all()]
        rows = conn.execute(sa.select(sa.func.count()).select_from(timers)).scalar()
    return due, fired, rows


def test_two_servers_and_two_workers_fire_every_due_timer_once(tmp_path):
    with fresh_pg_schema() as url:
        engine = make_engine(url)
        clock = Clock()                               # March 2026: every deadline of these is long past
        flows = make_bank(engine, clock)
        started = [start(flows, amount=10**8)["id"] for _ in range(INSTANCES)]
        due, fired, rows = _state(engine)
        assert due == rows == 3 * INSTANCES and fired == []        # remind, deadline, escalate per instance
        env = {**os.environ, "BANYAN_DATABASE_URL": url, "BANYAN_SECRET_FILE": str(tmp_path / "secret"),
               "BANYAN_LOG_FORMAT": "json",
               "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        ports = [free_port(), free_port()]
        servers = [subprocess.Popen([str(BANYAN), "serve", "--port", str(p), "--graceful-timeout", "5"], cwd=tmp_path,
                                    env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in ports]
        workers = [subprocess.Popen([str(BANYAN), "worker", "--interval", "0.5"], cwd=tmp_path, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        try:
            for port, server in zip(ports, servers):
                wait_ready(f"http://127.0.0.1:{port}", server)
            deadline = time.monotonic() + SETTLE_TIMEOUT
            while time.monotonic() < deadline:
                due, fired, _rows = _state(engine)
                if due == 0:
                    break
                time.sleep(0.5)
            time.sleep(2)                                 # a racing double would land now, if ever
            due, fired, rows = _state(engine)
            codes = []
            for server in servers:
                server.send_signal(signal.SIGTERM)
            for server in servers:
                _out, err = server.communicate(timeout=30)
                codes.append((server.returncode, err[-2000:]))
        finally:
            for proc in (*servers, *workers):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT if proc in workers else signal.SIGKILL)
            for proc in workers:
                try:
                    proc.communicate(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.communicate()
            engine.dispose()
    assert due == 0, f"{due} timers still due after {SETTLE_TIMEOUT} s"
    assert len(fired) >= 3 * INSTANCES
    assert len(set(fired)) == len(fired), "a timer fired twice"
    assert {instance for instance, _data in fired} == set(started)
    assert rows <= 3 * INSTANCES                                   # only re-armed ones left, all in the future
    assert [code for code, _err in codes] == [0, 0], codes
    assert db_time(clock.now) < db_now()
