"""Banyan's own tables up and down: 0004 makes idempotency keys each actor's own, and folds back."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import command

from runtime.storage.migrate import _config, current_revision, head_revision, upgrade


def _downgrade(engine, revision: str) -> None:
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_requests_per_actor_round_trip(engine):
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    now = datetime(2026, 12, 4, tzinfo=timezone.utc)
    with engine.begin() as conn:
        for actor, key in (("rm_sh_01", "shared"), ("head_sh", "shared"), ("rm_sh_01", "own")):
            conn.execute(sa.text("INSERT INTO banyan_requests (actor, request_id, entity, command, fingerprint, "
                                 "response, at) VALUES (:a, :k, 'rating', 'create rating', '', '1', :t)"),
                         {"a": actor, "k": key, "t": now})
            conn.execute(sa.text("INSERT INTO banyan_flow_requests (actor, request_id, command, instance_id, "
                                 "response, at) VALUES (:a, :k, 'start x', 'i1', '{}', :t)"),
                         {"a": actor, "k": key, "t": now.replace(tzinfo=None)})
    _downgrade(engine, "0003_users")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT request_id FROM banyan_requests")).scalars().all() == ["own"]
        assert conn.execute(sa.text("SELECT request_id, actor FROM banyan_flow_requests")).all() == [("own", "rm_sh_01")]
    upgrade(engine)                                   # and up again: the kept key is nobody's retry now
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT actor, request_id FROM banyan_requests")).all() == [("", "own")]
        assert conn.execute(sa.text("SELECT actor, request_id FROM banyan_flow_requests")).all() == [("rm_sh_01", "own")]


def test_shared_change_rows_split_on_downgrade_and_nothing_is_lost(engine):
    from runtime.jobs import changes
    upgrade(engine)
    with engine.begin() as conn:
        changes.append(conn, "company", "create", [(i, f"C{i}", ()) for i in range(1, 4)], actor="a", version=1)
        changes.append(conn, "company", "update", [(9, "C9", ("name",))], actor="b", version=1)
        before = [(c.record_id, c.record_key, c.op) for c in changes.read(conn, 0)]
    _downgrade(engine, "0008_flow_request_fingerprint")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT record_id, record_key, op, actor FROM banyan_changes ORDER BY seq")).all()
    assert [tuple(r) for r in rows] == [(1, "C1", "create", "a"), (9, "C9", "update", "b"),
                                        (2, "C2", "create", "a"), (3, "C3", "create", "a")]
    upgrade(engine)
    with engine.connect() as conn:
        assert sorted((c.record_id, c.record_key, c.op) for c in changes.read(conn, 0)) == sorted(before)
