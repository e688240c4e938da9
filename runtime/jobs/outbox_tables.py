"""The outbox's tables: messages waiting to go out (any feature's, not tied to a flow) and the
in-app notifications they become.

These definitions are what the outbox and the notification queries use; the Alembic revision
`0006_outbox` creates them (a frozen copy, never an import). Timestamps are naive UTC, as in
the flow tables, so `due_at <= now` compares the same on SQLite and PostgreSQL."""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

outbox = sa.Table(
    "banyan_outbox", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(64), nullable=False, unique=True),   # stable: every sender passes it on
    sa.Column("channel", sa.String(100), nullable=False),                   # a Channel document's name
    sa.Column("recipient", sa.String(200)),                                 # a user name; None: the channel's own target
    sa.Column("kind", sa.String(100), nullable=False),                      # the template's name
    sa.Column("language", sa.String(8)),                                    # None: the recipient's own
    sa.Column("payload", sa.Text, nullable=False),                          # JSON: the template's variables
    sa.Column("source", sa.String(200)),                                    # "flow:<instance>", "alert:<id>", …
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("due_at", sa.DateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", sa.DateTime),
    sa.Column("sent_at", sa.DateTime),
    sa.Column("last_error", sa.Text),
    sa.Index("ix_banyan_outbox_pending", "sent_at", "due_at"),
    sa.Index("ix_banyan_outbox_source", "source"),
)

notifications = sa.Table(
    "banyan_notifications", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(64), nullable=False, unique=True),   # one notification per message, ever
    sa.Column("user_name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("link", sa.String(500)),
    sa.Column("source", sa.String(200)),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("read_at", sa.DateTime),
    sa.Index("ix_banyan_notifications_user", "user_name", "read_at"),
)
