"""The protected environment a database is (issue 17, change control): one row, written the first
time a maker asks for a change to it — a deploy that changes nothing included — so the database
refuses a straight deploy from then on, from every door, before any change request exists.

Revision ID: 0023_protection
Revises: 0022_audit_holds
"""
import sqlalchemy as sa
from alembic import op

revision = "0023_protection"
down_revision = "0022_audit_holds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banyan_protection",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("environment", sa.String(100), nullable=False),
        sa.Column("marked_by", sa.String(200), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("banyan_protection")
