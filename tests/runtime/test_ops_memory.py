"""A server process's heap loaded and frozen before the first request (runtime/ops/memory.py), on
SQLite and PostgreSQL: the app `banyan serve` serves has the live model and the graph loaded and
the heap in the permanent generation, answers as the plain app does, and a database with nothing
deployed still gives a server that starts and says why it is not ready."""
from __future__ import annotations

import gc
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from runtime.cli.ops import served_app
from runtime.graph.service import graph_service
from runtime.ops.memory import preload
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

from .demo_db import demo_bank

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bank(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine, _records = demo_bank(db_url, scale=0.02)
    yield engine
    engine.dispose()


def test_the_served_app_has_the_model_and_the_graph_loaded_and_its_heap_frozen(bank):
    assert gc.get_freeze_count() == 0                     # tests/conftest.py thaws after each test
    app = served_app(bank)
    assert gc.get_freeze_count() > 100_000                 # the modules, the app, the model, the graph
    records = app.state.web.records
    assert records._follower._live is not None, "the live model is loaded"
    service = graph_service(bank, records)
    assert service._state is not None and service.last_update["kind"] == "build"
    with bank.connect() as conn:
        companies = conn.exec_driver_sql("SELECT count(*) FROM e_company").scalar()
    assert len(service._state.company_code) == companies
    built = service._state
    service.snapshot()
    assert service._state is built and service.last_update["kind"] == "build"   # a request finds it current
    assert TestClient(app).get("/ready").json()["status"] == "ready"


def test_a_database_with_nothing_deployed_still_gives_a_server(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine = make_engine(db_url)
    upgrade(engine)
    try:
        assert preload(engine, Records(engine)) is False
        assert gc.get_freeze_count() > 0                   # the modules and the app are frozen all the same
        r = TestClient(served_app(engine)).get("/ready")
        assert r.status_code == 503 and r.json()["checks"]["deployment"] == "none"
    finally:
        engine.dispose()


def test_the_threadpool_takes_half_the_postgresql_pool(monkeypatch, tmp_path):
    from runtime.ops.threads import request_threads
    assert request_threads(make_engine(f"sqlite:///{tmp_path / 'x.db'}")) is None     # SQLite: anyio's 40
    pg = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")                  # never connected
    assert request_threads(pg) == 10                                                  # 10 + 10 by default
    monkeypatch.setenv("BANYAN_DB_POOL_SIZE", "2")
    monkeypatch.setenv("BANYAN_DB_MAX_OVERFLOW", "0")
    assert request_threads(pg) == 1
    monkeypatch.setenv("BANYAN_DB_POOL_SIZE", "100")
    assert request_threads(pg) == 40


def test_concurrent_360_pages_on_a_small_postgresql_pool_all_answer(db_url, tmp_path):
    """The 360° page holds two connections at once (its own and a helper's): with a pool of two
    connections and eight pages asked at once, `banyan serve` answers every one (one request thread:
    half the pool) instead of leaving them to wait out the pool's timeout."""
    import os
    import re
    import socket
    import subprocess
    import sys
    import threading
    import time

    import httpx

    from examples.demo_bank.users import DEMO_PASSWORD

    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite's pool has no bound")
    engine, records = demo_bank(db_url, scale=0.02, people=True)
    code = records.query("group", order_by="-member_count", limit=1).items[0]["code"]
    engine.dispose()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "BANYAN_DATABASE_URL": db_url, "BANYAN_SECRET_FILE": str(tmp_path / "secret"),
           "BANYAN_DB_POOL_SIZE": "2", "BANYAN_DB_MAX_OVERFLOW": "0", "BANYAN_DB_POOL_TIMEOUT": "5",
           "BANYAN_SCHEDULER": "0", "BANYAN_FLOW_WORKER": "0",
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "banyan"), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "serve was not ready"
            time.sleep(0.3)
        client = httpx.Client(base_url=base, timeout=60)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/signin").text).group(1)
        assert client.post("/ui/signin", data={"csrf_token": token, "username": "cro", "password": DEMO_PASSWORD,
                                               "next": "/ui/"}).status_code == 303
        cookies = dict(client.cookies)
        answers: list[int] = []

        def page() -> None:
            with httpx.Client(base_url=base, cookies=cookies, timeout=60) as c:
                answers.append(c.get(f"/ui/views/group_360/{code}").status_code)
        threads = [threading.Thread(target=page) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert answers == [200] * 8
    finally:
        proc.terminate()
        proc.wait(timeout=30)
