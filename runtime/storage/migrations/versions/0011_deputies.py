"""Out of office (代理): a person names a deputy for a period; while it runs, new flow tasks that
would go to them go to the deputy, on their behalf (runtime/auth/deputies.py).

Revision ID: 0011_deputies
Revises: 0010_audit_keyed
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_deputies"
down_revision = "0010_audit_keyed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banyan_deputies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("deputy", sa.String(200), nullable=False),
        sa.Column("starts", sa.Date, nullable=False),
        sa.Column("ends", sa.Date, nullable=False),
        sa.Column("reason", sa.String(200)),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_banyan_deputies_user_name", "banyan_deputies", ["user_name"])


def downgrade() -> None:
    op.drop_index("ix_banyan_deputies_user_name", table_name="banyan_deputies")
    op.drop_table("banyan_deputies")
