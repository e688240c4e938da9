"""A write PostgreSQL undid because it crossed another (a deadlock, a serialization failure) is run
again from the start; anything else is not; a write undone every time ends in a clear 409
(runtime/storage/db.py write_retrying — the records service's writes and the events intake)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from runtime.storage import db
from runtime.storage.db import Contended, make_engine, write_retrying


class _Orig(Exception):
    def __init__(self, sqlstate: str):
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _undone(sqlstate: str = "40P01") -> sa.exc.OperationalError:
    return sa.exc.OperationalError("UPDATE …", {}, _Orig(sqlstate))


@pytest.fixture
def engine(tmp_path, monkeypatch):
    monkeypatch.setattr(db, "RACE_BACKOFF", 0.0)
    eng = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with eng.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    yield eng
    eng.dispose()


def _rows(engine) -> list[int]:
    with engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql("SELECT n FROM t ORDER BY n")]


def test_a_write_undone_in_a_deadlock_runs_again_and_lands_once(engine):
    calls = []

    def work(conn):
        calls.append(1)
        conn.exec_driver_sql(f"INSERT INTO t VALUES ({len(calls)})")
        if len(calls) < 3:
            raise _undone("40P01" if len(calls) == 1 else "40001")
        return "done"

    assert write_retrying(engine, work) == "done"
    assert len(calls) == 3 and _rows(engine) == [3]        # the undone attempts left nothing


def test_a_write_undone_every_time_is_a_409_and_writes_nothing(engine):
    def work(conn):
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        raise _undone()

    with pytest.raises(Contended) as found:
        write_retrying(engine, work)
    assert found.value.status == 409 and "send it again" in found.value.message
    assert "重试" in found.value.to_dict("zh")["message"]
    assert _rows(engine) == []


def test_any_other_database_error_is_not_retried(engine):
    calls = []

    def work(conn):
        calls.append(1)
        raise _undone("08006")                                   # the connection broke: not a race

    with pytest.raises(sa.exc.OperationalError):
        write_retrying(engine, work)
    assert calls == [1]
