"""Idempotency keys belong to the person who sent them: the records' and the flows' request
tables are keyed by (actor, request_id), and a record request remembers what it was (command
and a fingerprint of its body) so a key reused for another request is refused.

Keys recorded before this revision carry no actor for records (they are kept with actor ''
and match nobody's retry); flow keys keep theirs.

Revision ID: 0004_requests_per_actor
Revises: 0003_users
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_requests_per_actor"
down_revision = "0003_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banyan_requests_new",
        sa.Column("actor", sa.String(200), primary_key=True),
        sa.Column("request_id", sa.String(200), primary_key=True),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("command", sa.String(300), nullable=False, server_default=""),
        sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute("INSERT INTO banyan_requests_new (actor, request_id, entity, response, at) "
               "SELECT '', request_id, entity, response, at FROM banyan_requests")
    op.drop_table("banyan_requests")
    op.rename_table("banyan_requests_new", "banyan_requests")

    op.create_table(
        "banyan_flow_requests_new",
        sa.Column("actor", sa.String(200), primary_key=True),
        sa.Column("request_id", sa.String(200), primary_key=True),
        sa.Column("command", sa.String(300), nullable=False),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.execute("INSERT INTO banyan_flow_requests_new (actor, request_id, command, instance_id, response, at) "
               "SELECT actor, request_id, command, instance_id, response, at FROM banyan_flow_requests")
    op.drop_table("banyan_flow_requests")
    op.rename_table("banyan_flow_requests_new", "banyan_flow_requests")


def downgrade() -> None:
    """Back to one global key space: a key that one actor alone used keeps its answer; a key two
    people used cannot be one key again and is dropped (a retry of it then runs anew)."""
    single = "request_id IN (SELECT request_id FROM {t} GROUP BY request_id HAVING COUNT(*) = 1)"
    op.create_table(
        "banyan_requests_old",
        sa.Column("request_id", sa.String(200), primary_key=True),
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute("INSERT INTO banyan_requests_old (request_id, entity, response, at) "
               "SELECT request_id, entity, response, at FROM banyan_requests WHERE "
               + single.format(t="banyan_requests"))
    op.drop_table("banyan_requests")
    op.rename_table("banyan_requests_old", "banyan_requests")

    op.create_table(
        "banyan_flow_requests_old",
        sa.Column("request_id", sa.String(200), primary_key=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("command", sa.String(300), nullable=False),
        sa.Column("instance_id", sa.String(64), nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
    )
    op.execute("INSERT INTO banyan_flow_requests_old (request_id, actor, command, instance_id, response, at) "
               "SELECT request_id, actor, command, instance_id, response, at FROM banyan_flow_requests WHERE "
               + single.format(t="banyan_flow_requests"))
    op.drop_table("banyan_flow_requests")
    op.rename_table("banyan_flow_requests_old", "banyan_flow_requests")
