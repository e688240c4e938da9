"""Worker heartbeats (issue 17, operations): each process running the scheduler — `banyan
worker`, or `banyan serve` running the jobs — says every few seconds that it is alive and which
jobs it runs; `banyan status` lists the live ones. Naive UTC, like the other job tables.

Revision ID: 0021_worker_heartbeats
Revises: 0020_change_requests
"""
import sqlalchemy as sa
from alembic import op

revision = "0021_worker_heartbeats"
down_revision = "0020_change_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banyan_workers",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("seen_at", sa.DateTime, nullable=False),
        sa.Column("jobs", sa.Text, nullable=False),
    )
    op.create_index("ix_banyan_workers_seen_at", "banyan_workers", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_banyan_workers_seen_at", table_name="banyan_workers")
    op.drop_table("banyan_workers")
