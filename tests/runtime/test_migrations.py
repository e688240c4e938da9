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
