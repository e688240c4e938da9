"""Tiering runs (issue 15): each subject's tier history, the newest row its current answer.

Revision ID: 0017_tier_history
Revises: 0016_rule_reports
"""
import sqlalchemy as sa
from alembic import op

revision = "0017_tier_history"
down_revision = "0016_rule_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banyan_tier_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tiering", sa.String(100), nullable=False),
        sa.Column("subject_entity", sa.String(100), nullable=False),
        sa.Column("subject_id", sa.BigInteger, nullable=False),
        sa.Column("subject_key", sa.String(200)),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("written_at", sa.DateTime, nullable=False),
        sa.Column("tier", sa.String(100)),
        sa.Column("previous", sa.String(100)),
        sa.Column("problem", sa.String(40)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
    )
    op.create_index("ix_banyan_tier_history_subject", "banyan_tier_history",
                    ["tiering", "subject_entity", "subject_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_banyan_tier_history_subject", table_name="banyan_tier_history")
    op.drop_table("banyan_tier_history")
