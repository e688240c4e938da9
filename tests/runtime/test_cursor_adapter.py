"""runtime/storage/cursor.py, the one place Banyan runs a statement below `Connection.execute`:
it does so only while nothing listens to SQLAlchemy's statement events and SQL is not logged.
SQLite and PostgreSQL both take the path. These tests fail loudly when a SQLAlchemy upgrade changes the listener collections or the
logger it reads (then fix cursor.py, or drop the direct path and use `exec_driver_sql`)."""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from runtime.storage import cursor
from runtime.storage.db import make_engine, writing
from runtime.storage.prepared import Prepared
from tests.runtime.conftest import PG_URL, fresh_pg_schema

metadata = sa.MetaData()
notes = sa.Table("adapter_notes", metadata, sa.Column("id", sa.Integer, primary_key=True),
                 sa.Column("text", sa.String(40), nullable=False, unique=True))
INSERT = Prepared(notes.insert(), ["id", "text"])
READ = Prepared(sa.select(notes.c.id, notes.c.text).where(notes.c.id == sa.bindparam("k")))


@pytest.fixture
def db(engine):
    """SQLite, and PostgreSQL when a server answers: both take the direct path."""
    metadata.create_all(engine)
    return engine


def test_the_listener_collections_and_the_logger_it_reads_still_exist(db):
    with db.connect() as conn:
        for name in cursor._STATEMENT_EVENTS:
            assert not getattr(conn.dispatch, name), name          # an unknown event name raises here
        for name in cursor._DRIVER_EVENTS:
            assert not getattr(conn.dialect.dispatch, name), name
        assert conn.engine.logger.isEnabledFor(logging.INFO) is False
        assert cursor.nobody_listens(conn) is True                 # Banyan's own begin/connect hooks do not count


@pytest.mark.parametrize("event", ["before_cursor_execute", "after_cursor_execute"])
def test_a_statement_listener_is_fired_for_prepared_statements(db, event):
    seen: list[object] = []
    sa.event.listen(db, event, lambda *args, **kw: seen.append(args))
    with writing(db) as conn:
        assert cursor.quiet(conn) is False
        INSERT.run(conn, {"id": 1, "text": "a"})
        assert READ.first(conn, {"k": 1}).text == "a"
    assert len(seen) >= 2


def test_a_listener_on_the_connection_counts_from_the_next_connection(db):
    seen: list[str] = []
    with db.connect() as conn:
        assert cursor.quiet(conn) is True
        sa.event.listen(conn, "before_cursor_execute", lambda c, cur, sql, *rest: seen.append(sql))
        assert cursor.nobody_listens(conn) is False
    sa.event.listen(db, "before_cursor_execute", lambda c, cur, sql, *rest: seen.append(sql))
    with db.connect() as conn:
        assert cursor.quiet(conn) is False
        READ.first(conn, {"k": 1})
    assert any("adapter_notes" in s for s in seen)


def test_a_handle_error_listener_sees_driver_errors(db):
    errors: list[object] = []
    sa.event.listen(db, "handle_error", lambda ctx: errors.append(ctx.original_exception))
    with db.connect() as conn:
        assert cursor.quiet(conn) is False
    with pytest.raises(sa.exc.IntegrityError):
        with writing(db) as conn:
            INSERT.many(conn, [{"id": 1, "text": "x"}, {"id": 2, "text": "x"}])
    assert len(errors) == 1


def test_both_databases_take_the_direct_path_while_nobody_listens(db):
    with db.connect() as conn:
        assert cursor.quiet(conn) is True
        assert INSERT._for(conn).direct is True


def test_a_lost_postgresql_connection_is_invalidated_and_not_handed_out_again():
    with fresh_pg_schema() as url:
        engine = make_engine(url)
        metadata.create_all(engine)
        admin = sa.create_engine(PG_URL)
        try:
            with engine.connect() as conn:
                pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
                conn.commit()
                with admin.connect() as other:
                    other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
                with pytest.raises(sa.exc.DBAPIError) as caught:
                    INSERT.run(conn, {"id": 1, "text": "a"})
                assert caught.value.connection_invalidated is True
                assert conn.invalidated is True
            with writing(engine) as conn:                       # a new connection, not the dead one
                INSERT.run(conn, {"id": 1, "text": "a"})
            with engine.connect() as conn:
                assert READ.first(conn, {"k": 1}).text == "a"
        finally:
            admin.dispose()
            engine.dispose()


def test_echo_logs_prepared_statements(tmp_path, caplog):
    engine = make_engine(f"sqlite:///{tmp_path / 'echo.db'}")
    metadata.create_all(engine)
    engine.echo = True
    try:
        with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
            with writing(engine) as conn:
                assert cursor.quiet(conn) is False
                INSERT.run(conn, {"id": 7, "text": "logged"})
        assert any("INSERT INTO adapter_notes" in r.getMessage() for r in caplog.records)
    finally:
        engine.dispose()


def test_the_direct_path_begins_a_transaction_and_keeps_sqlalchemy_errors(db):
    with db.connect() as conn:
        assert not conn.in_transaction()
        INSERT.run(conn, {"id": 1, "text": "a"})
        assert conn.in_transaction()
        conn.commit()
        with pytest.raises(sa.exc.IntegrityError) as caught:
            INSERT.run(conn, {"id": 2, "text": "a"})
        conn.rollback()
    assert caught.value.orig is not None
    with db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(notes)).scalar() == 1
