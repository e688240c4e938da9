"""Flow runtime tables: instances, events, tasks and candidates, CC, requests, timers, outbox,
in-app messages, deliveries, and the people directory.

Revision ID: 0002_flows
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_flows"
down_revision = "0001"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
TABLES = ("banyan_flow_instances", "banyan_flow_events", "banyan_flow_tasks", "banyan_flow_task_candidates",
          "banyan_flow_cc", "banyan_flow_requests", "banyan_flow_timers", "banyan_flow_outbox",
          "banyan_flow_messages", "banyan_flow_deliveries", "banyan_flow_people", "banyan_flow_role_holders")


def upgrade() -> None:
    op.create_table(
        "banyan_flow_instances",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("flow", sa.String(100), nullable=False),
        sa.Column("deployment_version", sa.Integer, nullable=False),
        sa.Column("subject_entity", sa.String(100)),
        sa.Column("subject_key", sa.String(200)),
        sa.Column("initiator", sa.String(200), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(100)),
        sa.Column("parent_id", sa.String(64)),
        sa.Column("parent_call", sa.String(64)),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_banyan_flow_instances_flow_status", "banyan_flow_instances", ["flow", "status"])
    op.create_index("ix_banyan_flow_instances_subject", "banyan_flow_instances", ["subject_entity", "subject_key"])
    op.create_table(
        "banyan_flow_events",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("node", sa.String(100)),
        sa.Column("task", sa.String(100)),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("ix_banyan_flow_events_instance", "banyan_flow_events", ["instance_id", "id"])
    op.create_table(
        "banyan_flow_tasks",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("flow", sa.String(100), nullable=False),
        sa.Column("node", sa.String(100), nullable=False),
        sa.Column("assignee", sa.String(200)),
        sa.Column("owner", sa.String(200)),
        sa.Column("held", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("close_reason", sa.String(100)),
        sa.Column("closed_by", sa.String(200)),
        sa.Column("due_at", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("closed_at", sa.DateTime),
    )
    op.create_index("ix_banyan_flow_tasks_instance_id", "banyan_flow_tasks", ["instance_id"])
    op.create_index("ix_banyan_flow_tasks_assignee", "banyan_flow_tasks", ["assignee"])
    op.create_index("ix_banyan_flow_tasks_closed_by", "banyan_flow_tasks", ["closed_by"])
    op.create_index("ix_banyan_flow_tasks_status_due", "banyan_flow_tasks", ["status", "due_at"])
    op.create_table(
        "banyan_flow_task_candidates",
        sa.Column("task_id", sa.String(100), primary_key=True),
        sa.Column("user_name", sa.String(200), primary_key=True),
    )
    op.create_index("ix_banyan_flow_task_candidates_user_name", "banyan_flow_task_candidates", ["user_name"])
    op.create_table(
        "banyan_flow_cc",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("node", sa.String(100)),
        sa.Column("task", sa.String(100)),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_banyan_flow_cc_user_name", "banyan_flow_cc", ["user_name"])
    op.create_table(
        "banyan_flow_requests",
        sa.Column("request_id", sa.String(200), primary_key=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("command", sa.String(300), nullable=False),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "banyan_flow_timers",
        sa.Column("instance_id", sa.String(64), primary_key=True),
        sa.Column("timer", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claimed_until", sa.DateTime),
    )
    op.create_index("ix_banyan_flow_timers_due_at", "banyan_flow_timers", ["due_at"])
    op.create_table(
        "banyan_flow_outbox",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("recipient", sa.String(200)),
        sa.Column("template", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claimed_until", sa.DateTime),
        sa.Column("delivered_at", sa.DateTime),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_banyan_flow_outbox_pending", "banyan_flow_outbox", ["delivered_at", "id"])
    op.create_table(
        "banyan_flow_messages",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("outbox_id", sa.BigInteger, nullable=False, unique=True),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("template", sa.String(100), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("read_at", sa.DateTime),
    )
    op.create_index("ix_banyan_flow_messages_user_name", "banyan_flow_messages", ["user_name"])
    op.create_table(
        "banyan_flow_deliveries",
        sa.Column("outbox_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("channel", sa.String(50), nullable=False),
        sa.Column("sender", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "banyan_flow_people",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("display_name", sa.String(200)),
        sa.Column("org_unit", sa.String(100)),
        sa.Column("supervisor", sa.String(200)),
        sa.Column("email", sa.String(200)),
        sa.Column("phone", sa.String(50)),
    )
    op.create_table(
        "banyan_flow_role_holders",
        sa.Column("user_name", sa.String(200), primary_key=True),
        sa.Column("role", sa.String(100), primary_key=True),
        sa.Column("org_unit", sa.String(100), primary_key=True),
    )
    op.create_index("ix_banyan_flow_role_holders_role", "banyan_flow_role_holders", ["role"])


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
