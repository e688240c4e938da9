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
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.graph.service import graph_service
from runtime.ops.memory import preload
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def thawed():
    """The test process's heap as it was: whatever a test froze is unfrozen after it."""
    assert gc.get_freeze_count() == 0
    yield
    gc.unfreeze()


@pytest.fixture
def bank(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine = make_engine(db_url)
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    seed_demo(Records(engine), scale=0.02, seed=42, transactions=0, actor="test")
    yield engine
    engine.dispose()


def test_the_served_app_has_the_model_and_the_graph_loaded_and_its_heap_frozen(bank, thawed):
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


def test_a_database_with_nothing_deployed_still_gives_a_server(db_url, tmp_path, monkeypatch, thawed):
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
