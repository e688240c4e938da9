"""The tables of the change feed and of due work: `banyan_changes` (the committed record
changes: one row per change, or per run of a write's records changed alike — see changes.py),
`banyan_feed_cursors` (how far each subscriber has read, with its lease and its last failure)
and `banyan_due` (work that falls due at a time, claimed under a lease), and `banyan_workers`
(each scheduler's heartbeat, revision 0021).

These definitions are what runtime/jobs queries; the Alembic revision `0005_jobs` creates them
(a frozen copy, never an import; 0009 adds `records`). The outbox's tables live in `outbox_tables.py`. Every
timestamp is naive UTC (`db_now`), as in the flow tables, so `due_at <= now` compares the same
on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

metadata = sa.MetaData()
BIGID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

changes = sa.Table(
    "banyan_changes", metadata,
    sa.Column("seq", BIGID, primary_key=True, autoincrement=True),   # commit order (see feed.append)
    sa.Column("entity", sa.String(100), nullable=False),
    sa.Column("record_id", sa.BigInteger, nullable=False),
    sa.Column("record_key", sa.String(200)),                         # the key as text (None: keyless entity)
    sa.Column("op", sa.String(8), nullable=False),                   # create | update | delete
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("fields", sa.Text, nullable=False),                    # JSON list of the changed field names
    sa.Column("deployment_version", sa.Integer),
    sa.Column("source", sa.String(200)),                             # "import", "flow:<instance>", … or None
    # a row standing for several records of one write (0009): JSON [[id, key], …], the first
    # of them also in record_id/record_key; None for a row of one record
    sa.Column("records", sa.Text),
    sa.Index("ix_banyan_changes_entity_seq", "entity", "seq"),
    sqlite_autoincrement=True,
)

feed_cursors = sa.Table(
    "banyan_feed_cursors", metadata,
    sa.Column("subscriber", sa.String(100), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", sa.DateTime),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),   # failures of the batch now due
    sa.Column("last_error", sa.Text),
    sa.Column("retry_at", sa.DateTime),                                      # after a failure: not before
    sa.Column("updated_at", sa.DateTime),
)

due = sa.Table(
    "banyan_due", metadata,
    sa.Column("id", BIGID, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(64), nullable=False),                # names the handler
    sa.Column("key", sa.String(200), nullable=False),                # unique per kind: scheduling again moves it
    sa.Column("due_at", sa.DateTime, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),                   # JSON object
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", sa.DateTime),                         # a lease, or after a failure the retry time
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),   # claims so far
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("kind", "key", name="uq_banyan_due_kind_key"),
    sa.Index("ix_banyan_due_kind_due", "kind", "due_at"),
)


workers = sa.Table(
    "banyan_workers", metadata,                    # revision 0021: heartbeats (heartbeat.py)
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("seen_at", sa.DateTime, nullable=False),
    sa.Column("jobs", sa.Text, nullable=False),
)


def db_now() -> datetime:
    """Now as the jobs tables store time: naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def db_time(value: datetime) -> datetime:
    """`value` as naive UTC (an aware time is converted; a naive one is taken as UTC)."""
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
