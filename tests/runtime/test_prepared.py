"""The flow runtime's prepared statements (SQLite and PostgreSQL): they write exactly what the
Core statement would, read rows back through the column types, batch rows without reordering
a table's writes, and keep SQLAlchemy's errors."""
from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from engine.flow import ClearTimer, CloseTask, CreateTask, Finished, SetTimer, UpdateTask
from runtime.flows.effects import write_effects
from runtime.flows.tables import metadata, task_candidates, tasks, timers
from runtime.storage.db import writing
from runtime.storage.prepared import Prepared

AT = datetime(2026, 3, 2, 9, 30, 0)          # whole seconds: SQLite's text form must still be SQLAlchemy's
DUE = datetime(2026, 3, 4, 18, 0, 0, 1234)


@pytest.fixture
def tables(engine):
    metadata.create_all(engine, tables=[tasks, task_candidates, timers])
    return engine


def task_row(**kw):
    return {"id": "i/1", "instance_id": "i", "flow": "f", "node": "n", "assignee": "ann", "owner": None,
            "held": False, "status": "open", "due_at": DUE, "created_at": AT, **kw}


def test_a_prepared_insert_stores_what_core_stores(tables):
    new = Prepared(tasks.insert(), list(task_row()))
    with writing(tables) as conn:
        new.run(conn, task_row())
        conn.execute(tasks.insert(), task_row(id="i/2"))
        raw = conn.exec_driver_sql("SELECT id, held, due_at, created_at FROM banyan_flow_tasks ORDER BY id").all()
    assert [tuple(r[1:]) for r in raw] == [tuple(raw[1][1:])] * 2           # the same bytes either way
    with tables.connect() as conn:
        rows = conn.execute(sa.select(tasks).order_by(tasks.c.id)).all()
    assert [(r.held, r.due_at, r.created_at) for r in rows] == [(False, DUE, AT)] * 2


def test_a_prepared_select_gives_typed_named_rows(tables):
    with writing(tables) as conn:
        conn.execute(tasks.insert(), task_row())
    one = Prepared(sa.select(tasks.c.id, tasks.c.held, tasks.c.due_at).where(tasks.c.id == sa.bindparam("k")))
    with tables.connect() as conn:
        row = one.first(conn, {"k": "i/1"})
        assert (row.id, row.held, row.due_at) == ("i/1", False, DUE)
        assert one.first(conn, {"k": "nope"}) is None
        assert Prepared(sa.select(sa.func.count()).select_from(tasks)).scalar(conn) == 1


def test_fixed_values_updates_many_rows_and_rowcount(tables):
    new = Prepared(tasks.insert(), list(task_row()))
    close = Prepared(tasks.update().where(tasks.c.id == sa.bindparam("k"), tasks.c.status == "open")
                     .values(status="done", closed_at=sa.bindparam("closed_at")))
    with writing(tables) as conn:
        new.many(conn, [task_row(id=f"i/{n}") for n in range(3)])
        new.many(conn, [])
        assert close.run(conn, {"k": "i/1", "closed_at": AT}).rowcount == 1
        assert close.run(conn, {"k": "i/1", "closed_at": AT}).rowcount == 0          # already done
    with tables.connect() as conn:
        rows = conn.execute(sa.select(tasks.c.id, tasks.c.status, tasks.c.closed_at).order_by(tasks.c.id)).all()
    assert [tuple(r) for r in rows] == [("i/0", "open", None), ("i/1", "done", AT), ("i/2", "open", None)]


def test_errors_stay_sqlalchemy_errors_and_roll_back(tables):
    new = Prepared(tasks.insert(), list(task_row()))
    with pytest.raises(sa.exc.IntegrityError):
        with writing(tables) as conn:
            new.run(conn, task_row(id="i/9"))
            new.many(conn, [task_row(id="i/8"), task_row(id="i/8")])
    with tables.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tasks)).scalar() == 0


def test_batched_effects_keep_each_tables_order(tables):
    """A timer cleared and armed again, a task created then reassigned (its candidates replaced),
    closed tasks: rows go out as batches, each table's writes in the order the engine gave."""
    effects = [CreateTask("i/1", "review", None, ("ann", "bob"), DUE),
               CreateTask("i/2", "check", "cat", (), None),
               SetTimer("m1", DUE, "deadline"),
               UpdateTask("i/1", "dan", ("dan",), False),
               ClearTimer("m1"),
               SetTimer("m1", AT, "remind"),
               CloseTask("i/2", "cancelled"),
               Finished("finished", "approved")]
    with writing(tables) as conn:
        follow = write_effects(conn, "i", "f", effects, "ann", AT, directory=None)
    assert follow == [Finished("finished", "approved")]
    with tables.connect() as conn:
        got = {r.id: (r.assignee, r.status, r.close_reason) for r in conn.execute(sa.select(tasks))}
        cands = sorted(map(tuple, conn.execute(sa.select(task_candidates))))
        armed = [tuple(r) for r in conn.execute(sa.select(timers.c.timer, timers.c.kind, timers.c.due_at))]
    assert got == {"i/1": ("dan", "open", None), "i/2": ("cat", "cancelled", "cancelled")}
    assert cands == [("i/1", "dan")]
    assert armed == [("m1", "remind", AT)]


def test_all_rows_and_a_limit(tables):
    new = Prepared(tasks.insert(), list(task_row()))
    with writing(tables) as conn:
        new.many(conn, [task_row(id=f"i/{n}", assignee=f"u{n % 2}") for n in range(4)])
    mine = Prepared(sa.select(tasks.c.id, tasks.c.due_at).where(tasks.c.assignee == sa.bindparam("who"))
                    .order_by(tasks.c.id))
    first = Prepared(sa.select(tasks.c.id).where(tasks.c.assignee == sa.bindparam("who")).order_by(tasks.c.id).limit(1))
    with tables.connect() as conn:
        assert [tuple(r) for r in mine.all(conn, {"who": "u1"})] == [("i/1", DUE), ("i/3", DUE)]
        assert mine.all(conn, {"who": "nobody"}) == []
        assert first.scalar(conn, {"who": "u0"}) == "i/0"


def test_a_locked_sqlite_database_is_still_sqlalchemys_operational_error(tmp_path):
    """runtime.storage.db sends BEGIN [IMMEDIATE] on the driver connection; a writer that cannot get
    the lock still gets SQLAlchemy's OperationalError (what the CLI turns into a message)."""
    import sqlite3

    from sqlalchemy import event

    from runtime.storage.db import make_engine
    path = tmp_path / "locked.db"
    engine = make_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.execute("PRAGMA busy_timeout=50")

    with writing(engine) as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            with writing(engine) as conn:
                conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        with engine.connect() as conn:                       # a reader is not blocked
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with writing(engine) as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    engine.dispose()
