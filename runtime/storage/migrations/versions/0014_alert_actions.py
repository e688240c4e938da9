"""Alert disposal (issue 13): what each alert's `start_flow` and `update` actions did, once per
(alert, action) by a unique index; and the person an alert is assigned to.

Revision ID: 0014_alert_actions
Revises: 0013_alerts
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_alert_actions"
down_revision = "0013_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("banyan_alerts") as batch:
        batch.add_column(sa.Column("assigned_to", sa.String(200)))
    op.create_table(
        "banyan_alert_actions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("action", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", sa.String(200)),
        sa.Column("detail", sa.Text),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ux_banyan_alert_actions", "banyan_alert_actions", ["alert_id", "action"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_banyan_alert_actions", table_name="banyan_alert_actions")
    op.drop_table("banyan_alert_actions")
    with op.batch_alter_table("banyan_alerts") as batch:
        batch.drop_column("assigned_to")
