"""The doors' databases: a SQLite file, or — when BANYAN_TEST_POSTGRES_URL is set — a fresh
PostgreSQL schema per test module, dropped afterwards."""
from __future__ import annotations

import os

import pytest

from tests.runtime.conftest import fresh_pg_schema


@pytest.fixture(scope="module")
def door_db(tmp_path_factory):
    if os.environ.get("BANYAN_TEST_POSTGRES_URL"):
        with fresh_pg_schema() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('door-db') / 'doors.db'}"
