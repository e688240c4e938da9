"""Sign-in security (issue 16, parts 1–3): server-side sessions (sign-out, a password change,
disabling and "sign out everywhere" end them), failed sign-ins counted per typed name and per
address (lockout), the last passwords (no reuse), a TOTP second factor, API tokens with an
expiry and a scope. Tokens made before this revision get 90 days from their creation and stay
read-write; a downgrade revokes the read-only and expired ones (the older tables cannot say so).

Revision ID: 0012_sign_in_security
Revises: 0011_deputies
"""
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from alembic import op

revision = "0012_sign_in_security"
down_revision = "0011_deputies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banyan_sessions",
        sa.Column("id", sa.String(64), primary_key=True),               # sha256 of the cookie's session id
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("ended_why", sa.String(30)),
        sa.Column("address", sa.String(100)),
    )
    op.create_index("ix_banyan_sessions_user_name", "banyan_sessions", ["user_name"])
    op.create_table(
        "banyan_sign_in_failures",
        sa.Column("kind", sa.String(10), primary_key=True),               # "user" or "address"
        sa.Column("key", sa.String(100), primary_key=True),               # sha256 of the typed name, or the address
        sa.Column("user_name", sa.String(200)),                           # the person, when the name is someone's
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "banyan_password_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_banyan_password_history_user_name", "banyan_password_history", ["user_name"])
    with op.batch_alter_table("banyan_users") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(64)))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger))
    with op.batch_alter_table("banyan_api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("scope", sa.String(10), nullable=False, server_default="write"))
    tokens = sa.table("banyan_api_tokens", sa.column("id", sa.String), sa.column("created_at", sa.DateTime(timezone=True)),
                      sa.column("expires_at", sa.DateTime(timezone=True)))
    conn = op.get_bind()
    for token_id, created in conn.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        conn.execute(tokens.update().where(tokens.c.id == token_id).values(expires_at=created + timedelta(days=90)))


def downgrade() -> None:
    # the older tables cannot say "read-only" or "expired": such tokens are revoked, never widened
    tokens = sa.table("banyan_api_tokens", sa.column("scope", sa.String), sa.column("revoked", sa.Boolean),
                      sa.column("expires_at", sa.DateTime(timezone=True)))
    op.get_bind().execute(tokens.update().where(sa.or_(tokens.c.scope != "write",
                                                       tokens.c.expires_at < datetime.now(timezone.utc)))
                          .values(revoked=True))
    with op.batch_alter_table("banyan_api_tokens") as batch:
        batch.drop_column("scope")
        batch.drop_column("expires_at")
    with op.batch_alter_table("banyan_users") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_secret")
    op.drop_index("ix_banyan_password_history_user_name", table_name="banyan_password_history")
    op.drop_table("banyan_password_history")
    op.drop_table("banyan_sign_in_failures")
    op.drop_index("ix_banyan_sessions_user_name", table_name="banyan_sessions")
    op.drop_table("banyan_sessions")
