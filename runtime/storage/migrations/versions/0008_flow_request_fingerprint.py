"""A flow request id remembers a fingerprint of the body it was first used with, as record
requests already do (0004): the same id again with another body is a conflict (409
`request_reused`), not a silent replay of the first answer. Ids stored before this revision have
an empty fingerprint and are still matched by their command alone.

Revision ID: 0008_flow_request_fingerprint
Revises: 0007_flow_waits
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_flow_request_fingerprint"
down_revision = "0007_flow_waits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("banyan_flow_requests") as batch:
        batch.add_column(sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("banyan_flow_requests") as batch:
        batch.drop_column("fingerprint")
