"""Alerts (issue 13): one row per alert of a rule on a subject — grade, state, message, evidence,
answer time, quiet period — each alert's timeline, and the conditions the last evaluation of a
rule could not read on a subject's data. At most one open alert per rule and
subject (a partial unique index, on SQLite and PostgreSQL).

Revision ID: 0013_alerts
Revises: 0012_sign_in_security
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_alerts"
down_revision = "0012_sign_in_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banyan_alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("subject_entity", sa.String(100), nullable=False),
        sa.Column("subject_id", sa.BigInteger, nullable=False),
        sa.Column("subject_key", sa.String(200)),
        sa.Column("grade", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("errors", sa.Text),
        sa.Column("deployment_version", sa.Integer, nullable=False),
        sa.Column("opened_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("due_at", sa.DateTime),
        sa.Column("cleared_at", sa.DateTime),
        sa.Column("acknowledged_at", sa.DateTime),
        sa.Column("acknowledged_by", sa.String(200)),
        sa.Column("closed_at", sa.DateTime),
        sa.Column("closed_by", sa.String(200)),
        sa.Column("close_reason", sa.String(500)),
    )
    op.create_index("ix_banyan_alerts_subject", "banyan_alerts", ["subject_entity", "subject_id", "rule"])
    op.create_index("ix_banyan_alerts_status", "banyan_alerts", ["status", "grade"])
    op.create_index("ux_banyan_alerts_open", "banyan_alerts", ["rule", "subject_entity", "subject_id"], unique=True,
                    sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
    op.create_table(
        "banyan_alert_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("grade", sa.String(10)),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("data", sa.Text),
    )
    op.create_index("ix_banyan_alert_events_alert", "banyan_alert_events", ["alert_id", "id"])
    op.create_table(
        "banyan_alert_errors",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("subject_entity", sa.String(100), nullable=False),
        sa.Column("subject_id", sa.BigInteger, nullable=False),
        sa.Column("subject_key", sa.String(200)),
        sa.Column("errors", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ux_banyan_alert_errors_subject", "banyan_alert_errors", ["rule", "subject_entity", "subject_id"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("ux_banyan_alert_errors_subject", table_name="banyan_alert_errors")
    op.drop_table("banyan_alert_errors")
    op.drop_index("ix_banyan_alert_events_alert", table_name="banyan_alert_events")
    op.drop_table("banyan_alert_events")
    op.drop_index("ux_banyan_alerts_open", table_name="banyan_alerts")
    op.drop_index("ix_banyan_alerts_status", table_name="banyan_alerts")
    op.drop_index("ix_banyan_alerts_subject", table_name="banyan_alerts")
    op.drop_table("banyan_alerts")
