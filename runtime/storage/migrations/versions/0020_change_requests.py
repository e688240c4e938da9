"""Change control (issue 17): a deploy, rollback or promote to a protected environment waits here,
with the candidate release, until a second person approves it in `config_change_approval`.

Revision ID: 0020_change_requests
Revises: 0019_archive_tables
"""
import sqlalchemy as sa
from alembic import op

revision = "0020_change_requests"
down_revision = "0019_archive_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banyan_change_requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("environment", sa.String(100), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("based_on", sa.String(200)),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("from_version", sa.Integer),
        sa.Column("from_hash", sa.String(64)),
        sa.Column("allow_data_loss", sa.Text, nullable=False),
        sa.Column("maker", sa.String(200), nullable=False),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("instance_id", sa.String(40)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("checker", sa.String(200)),
        sa.Column("version", sa.Integer),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_banyan_change_requests_status", "banyan_change_requests", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_banyan_change_requests_status", table_name="banyan_change_requests")
    op.drop_table("banyan_change_requests")
