"""What is known of an alert rule beyond its YAML (issue 14): its latest backtest and the business
tests that exercise it, kept for the rule's page.

Revision ID: 0016_rule_reports
Revises: 0015_alert_circles
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_rule_reports"
down_revision = "0015_alert_circles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banyan_rule_reports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_banyan_rule_reports_rule", "banyan_rule_reports", ["rule", "kind", "id"])


def downgrade() -> None:
    op.drop_index("ix_banyan_rule_reports_rule", table_name="banyan_rule_reports")
    op.drop_table("banyan_rule_reports")
