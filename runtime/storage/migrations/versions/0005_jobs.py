"""The jobs room's tables: the change feed (one row per committed record change), the feed's
per-subscriber cursors (with a lease, attempts and the last error), and one generic table of
due work claimed by any number of workers.

Every timestamp is naive UTC, like the flow tables.

Revision ID: 0005_jobs
Revises: 0004_requests_per_actor
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_jobs"
down_revision = "0004_requests_per_actor"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "banyan_changes",
        sa.Column("seq", BIGID, primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("record_key", sa.String(200)),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("deployment_version", sa.Integer),
        sa.Column("source", sa.String(200)),
        sqlite_autoincrement=True,          # a seq is never reused, even after old events are pruned
    )
    op.create_index("ix_banyan_changes_entity_seq", "banyan_changes", ["entity", "seq"])
    op.create_table(
        "banyan_feed_cursors",
        sa.Column("subscriber", sa.String(100), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claimed_until", sa.DateTime),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("retry_at", sa.DateTime),
        sa.Column("updated_at", sa.DateTime),
    )
    op.create_table(
        "banyan_due",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claimed_until", sa.DateTime),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("kind", "key", name="uq_banyan_due_kind_key"),
    )
    op.create_index("ix_banyan_due_kind_due", "banyan_due", ["kind", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_banyan_due_kind_due", table_name="banyan_due")
    op.drop_table("banyan_due")
    op.drop_table("banyan_feed_cursors")
    op.drop_index("ix_banyan_changes_entity_seq", table_name="banyan_changes")
    op.drop_table("banyan_changes")
