"""Flow instances by status, flow and deployment version: the change feed's `flows` subscriber
(runtime/flows/events.py) asks, for every batch of record changes, which flows (at which pinned
deployment) have running instances, and then for the running instances of those flows that wait
on a record event. The index answers both without reading the finished instances.

Revision ID: 0007_flow_waits
Revises: 0006_outbox
"""
from alembic import op

revision = "0007_flow_waits"
down_revision = "0006_outbox"
branch_labels = None
depends_on = None

INDEX = "ix_banyan_flow_instances_running"


def upgrade() -> None:
    op.create_index(INDEX, "banyan_flow_instances", ["status", "flow", "deployment_version"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="banyan_flow_instances")
