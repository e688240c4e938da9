"""Each process's connection pool on PostgreSQL: sized from the environment, with a clear error for
a setting that cannot be used (runtime/storage/db.py)."""
from __future__ import annotations

import pytest

from runtime.storage.db import ConfigError, make_engine, pool_settings

from .conftest import PG_URL


def test_defaults_when_nothing_is_set(monkeypatch):
    for env in ("BANYAN_DB_POOL_SIZE", "BANYAN_DB_MAX_OVERFLOW", "BANYAN_DB_POOL_TIMEOUT"):
        monkeypatch.delenv(env, raising=False)
    assert pool_settings() == {"pool_size": 10, "max_overflow": 10, "pool_timeout": 30}


def test_the_environment_sizes_the_pool(monkeypatch):
    monkeypatch.setenv("BANYAN_DB_POOL_SIZE", "4")
    monkeypatch.setenv("BANYAN_DB_MAX_OVERFLOW", "0")
    engine = make_engine(PG_URL)            # no connection is opened to size it
    try:
        assert engine.pool.size() == 4 and engine.pool._max_overflow == 0
    finally:
        engine.dispose()


@pytest.mark.parametrize("raw", ["ten", "0", "-3", "2.5"])
def test_a_setting_that_cannot_be_used_says_which_and_what_to_do(monkeypatch, raw):
    monkeypatch.setenv("BANYAN_DB_POOL_SIZE", raw)
    with pytest.raises(ConfigError) as found:
        make_engine(PG_URL)
    assert "BANYAN_DB_POOL_SIZE" in str(found.value) and "at least 1" in str(found.value)
