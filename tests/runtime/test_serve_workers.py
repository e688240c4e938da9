"""`banyan serve --workers 2` as a real subprocess on a free port, on SQLite and PostgreSQL: both
processes answer /ready and the API behind a token, /metrics sums the two processes' counters
(prometheus-client's multiprocess mode), every request line is JSON with its request id, and
SIGTERM ends it with exit 0 within the graceful timeout — after finishing a command that was in
flight when the signal came."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from runtime.cli.main import main
from runtime.storage.db import make_engine, writing

from .bundles import COMPANY, GROUP
from .test_ops_http import samples
from .test_users_cli import BUNDLE, PASSWORD

ROOT = Path(__file__).resolve().parents[2]
BANYAN = Path(sys.executable).parent / "banyan"
GRACE = 5
START_TIMEOUT = 120            # two Python processes importing FastAPI, SQLAlchemy … on a loaded machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(env: dict, *args: str, input: str | None = None) -> str:
    r = CliRunner().invoke(main, list(args), input=input, env=env)
    assert r.exit_code == 0, r.output
    return r.output


@pytest.fixture
def deployed(db_url, tmp_path):
    """A small bundle deployed, an administrator and an API token of theirs."""
    root = tmp_path / "bundle"
    root.mkdir()
    for name, text in (*BUNDLE, GROUP, COMPANY):
        (root / name).write_text(text, encoding="utf-8")
    env = {"BANYAN_DATABASE_URL": db_url, "BANYAN_ACTOR": "tester", "BANYAN_SECRET_FILE": str(tmp_path / "secret")}
    cli(env, "deploy", str(root), "-m", "ops")
    cli(env, "users", "create", "chen", "--admin", "--password-stdin", input=PASSWORD + "\n")
    token = cli(env, "users", "token", "chen").strip()
    return env, token


def wait_ready(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else "serve ended"
        try:
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"serve was not ready within {START_TIMEOUT} s")


def test_serve_with_two_workers_answers_counts_and_stops_gracefully(deployed, db_url, tmp_path):
    env, token = deployed
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    run_env = {**os.environ, **env, "BANYAN_LOG_FORMAT": "json",      # this checkout's code, whatever the cwd
               "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    run_env.pop("PROMETHEUS_MULTIPROC_DIR", None)        # serve makes its own and removes it
    proc = subprocess.Popen([str(BANYAN), "serve", "--workers", "2", "--port", str(port),
                             "--graceful-timeout", str(GRACE)], cwd=tmp_path, env=run_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(base, proc)
        auth = {"Authorization": f"Bearer {token}"}
        for n in range(8):                      # a new connection each: the kernel spreads them over the workers
            r = httpx.post(f"{base}/records/group", json={"code": f"G{n}", "name": f"group {n}"},
                           headers={**auth, "X-Request-ID": f"req-{n}"}, timeout=30)
            assert r.status_code == 201, r.text
            assert r.headers["x-request-id"] == f"req-{n}"
        r = httpx.get(f"{base}/records/group", headers=auth, timeout=30)
        assert r.status_code == 200 and r.json()["total"] == 8
        assert httpx.get(f"{base}/records/group", timeout=30).status_code == 401          # no token, no data
        found = samples(httpx.get(f"{base}/metrics", timeout=30).text)
        created = ("banyan_http_requests_total", (("method", "POST"), ("route", "/records/{entity}"), ("status", "201")))
        assert found[created] == 8                   # whichever process answered the scrape: both counted
        assert found[("banyan_deployment_version", ())] == 1
        assert found[("banyan_metrics_database_up", ())] == 1
        # a command in flight when SIGTERM comes: held up by a lock on the table until after the signal
        late: dict = {}

        def create_late() -> None:
            late["response"] = httpx.post(f"{base}/records/group", json={"code": "LATE", "name": "late"},
                                          headers={**auth, "X-Request-ID": "req-late"}, timeout=60)
            late["at"] = time.monotonic()
        locker = make_engine(db_url)
        with writing(locker) as conn:             # SQLite: the write lock; PostgreSQL: the table's
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("LOCK TABLE e_group IN EXCLUSIVE MODE")
            sender = threading.Thread(target=create_late)
            sender.start()
            time.sleep(1.5)                       # the request is in, waiting on the lock
            stopped = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            time.sleep(1.0)
        sender.join(timeout=60)
        locker.dispose()
        out, err = proc.communicate(timeout=GRACE + 25)
        took = time.monotonic() - stopped
        assert late["response"].status_code == 201, late["response"].text       # finished, not cut
        assert late["at"] - stopped > 0.9                # … after the signal, once the lock was gone
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert took < GRACE + 25
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert "Traceback" not in err
    requests = [line for line in lines if line["logger"] == "banyan.http" and line["route"] == "/records/{entity}"
                and line["method"] == "POST"]
    assert sorted(line["request_id"] for line in requests) == sorted([*(f"req-{n}" for n in range(8)), "req-late"])
    assert {line["user"] for line in requests} == {"chen"} and {line["status"] for line in requests} == {201}
    pids = {line["pid"] for line in lines if line["logger"] == "banyan.http"}
    scheduler = [line for line in lines if line["message"].startswith("scheduler ")]
    assert len(scheduler) == 1                      # the jobs run once, in the supervisor, not in each worker
    assert scheduler[0]["pid"] == proc.pid and proc.pid not in pids
    assert any("Finished server process" in line["message"] for line in lines)
