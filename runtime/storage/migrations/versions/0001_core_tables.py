"""Banyan's core tables: deployments, audit chain and head, idempotent requests.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banyan_deployments",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False, index=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("based_on", sa.String(200)),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
    )
    op.create_table(
        "banyan_audit",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("bundle_version", sa.Integer),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("entity", sa.String(100)),
        sa.Column("record_id", sa.BigInteger),
        sa.Column("before", sa.Text),
        sa.Column("after", sa.Text),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "banyan_audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "banyan_requests",
        sa.Column("request_id", sa.String(200), primary_key=True),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for name in ("banyan_requests", "banyan_audit_head", "banyan_audit", "banyan_deployments"):
        op.drop_table(name)
