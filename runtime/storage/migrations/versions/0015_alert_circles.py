"""Guarantee circles as alert subjects (issue 13): who is in each circle an alert rule watched,
so the alert list shows a circle's alert to whoever may read one of its members.

Revision ID: 0015_alert_circles
Revises: 0014_alert_actions
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_alert_circles"
down_revision = "0014_alert_actions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banyan_alert_circle_members",
        sa.Column("anchor_id", sa.BigInteger, primary_key=True),
        sa.Column("member_id", sa.BigInteger, primary_key=True),
    )
    op.create_index("ix_banyan_alert_circle_members_member", "banyan_alert_circle_members", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_banyan_alert_circle_members_member", table_name="banyan_alert_circle_members")
    op.drop_table("banyan_alert_circle_members")
