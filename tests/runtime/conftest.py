"""Every runtime test runs on SQLite, and on PostgreSQL when `BANYAN_TEST_POSTGRES_URL` answers
(a fresh schema per test, dropped afterwards)."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator

import pytest
import sqlalchemy as sa

from runtime.storage.db import make_engine

PG_URL = os.environ.get("BANYAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_pg_state: dict[str, bool] = {}


def _pg_available() -> bool:
    if "ok" not in _pg_state:
        try:
            eng = sa.create_engine(PG_URL, connect_args={"connect_timeout": 2})
            with eng.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            eng.dispose()
            _pg_state["ok"] = True
        except Exception:  # noqa: BLE001 - any failure to connect means: skip PostgreSQL
            _pg_state["ok"] = False
    return _pg_state["ok"]


@contextmanager
def fresh_pg_schema() -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL schema, dropped afterwards (skips when no server answers)."""
    if not _pg_available():
        pytest.skip(f"PostgreSQL does not answer at {PG_URL} (set BANYAN_TEST_POSTGRES_URL)")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A database URL for a fresh, empty database; the test may make its own engines from it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'banyan.db'}"
        return
    with fresh_pg_schema() as url:
        yield url


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
