"""An API token's "last used" is written at most every half minute, as a session's is: not a write transaction (and, on
PostgreSQL, a commit's flush) for every request it makes (runtime/auth/users.py token_access)."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from runtime.auth import users as users_module
from runtime.auth.tables import api_tokens
from runtime.auth.users import UserStore
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade


def test_last_used_is_written_at_most_every_half_minute(tmp_path, monkeypatch):
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    upgrade(engine)
    store = UserStore(engine)
    store.save("ann", display_name="安", org_unit="head_office", password="a-Long-pass-2026!", new=True)
    token = store.create_token("ann", "nightly")
    writes: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _seen(conn, cursor, statement, *args):  # noqa: ANN001
        if statement.lstrip().upper().startswith("UPDATE BANYAN_API_TOKENS"):
            writes.append(statement)

    def last_used():
        with engine.connect() as conn:
            return conn.execute(sa.select(api_tokens.c.last_used_at)).scalar()

    real_now = users_module._now
    assert store.token_access(token)[0].name == "ann"
    first = last_used()
    for _ in range(5):
        assert store.token_access(token) is not None
    assert len(writes) == 1 and last_used() == first
    monkeypatch.setattr(users_module, "_now", lambda: real_now() + timedelta(minutes=2))
    assert store.token_access(token) is not None
    assert len(writes) == 2 and last_used() > first
    engine.dispose()
