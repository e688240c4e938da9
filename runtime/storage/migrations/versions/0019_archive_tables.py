"""Retention (issue 17, Operations): archive tables beside the audit log, the alert history and
the flow history. Rows past their retention move here (runtime/storage/archive.py) instead of
being deleted; each archive has its table's columns, without its indexes but the key.

Revision ID: 0019_archive_tables
Revises: 0018_audit_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_archive_tables"
down_revision = "0018_audit_indexes"
branch_labels = None
depends_on = None

ARCHIVES = ("banyan_audit_archive", "banyan_alerts_archive", "banyan_alert_events_archive",
            "banyan_alert_actions_archive", "banyan_flow_events_archive")


def upgrade() -> None:
    op.create_table(
        "banyan_audit_archive",
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
        "banyan_alerts_archive",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
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
        sa.Column("assigned_to", sa.String(200)),
        sa.Column("closed_at", sa.DateTime),
        sa.Column("closed_by", sa.String(200)),
        sa.Column("close_reason", sa.String(500)),
    )
    op.create_table(
        "banyan_alert_events_archive",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("grade", sa.String(10)),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("data", sa.Text),
    )
    op.create_table(
        "banyan_alert_actions_archive",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("alert_id", sa.Integer, nullable=False),
        sa.Column("action", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", sa.String(200)),
        sa.Column("detail", sa.Text),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "banyan_flow_events_archive",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("node", sa.String(100)),
        sa.Column("task", sa.String(100)),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_banyan_flow_events_archive_instance", "banyan_flow_events_archive", ["instance_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_banyan_flow_events_archive_instance", table_name="banyan_flow_events_archive")
    for name in reversed(ARCHIVES):
        op.drop_table(name)
