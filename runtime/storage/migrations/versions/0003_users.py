"""Sign-in: credentials, role permissions, API tokens (profiles and roles held are the
people directory of 0002_flows).

Revision ID: 0003_users
Revises: 0002_flows
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_users"
down_revision = "0002_flows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banyan_users",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("session_epoch", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "banyan_role_grants",
        sa.Column("role", sa.String(100), primary_key=True),
        sa.Column("permission", sa.String(50), primary_key=True),
    )
    op.create_table(
        "banyan_api_tokens",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_banyan_api_tokens_user_name", "banyan_api_tokens", ["user_name"])


def downgrade() -> None:
    for name in ("banyan_api_tokens", "banyan_role_grants", "banyan_users"):
        op.drop_table(name)
