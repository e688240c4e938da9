"""Sign-in's tables (Alembic revision 0003 creates them): credentials, what each role may do
on the web, API tokens; 0012 adds server-side sessions, failed sign-ins (lockout), password
history, the TOTP secret and the tokens' expiry and scope.

A person's profile (display name, org unit, e-mail) and the roles they hold in which unit are
the people directory (`banyan_flow_people`, `banyan_flow_role_holders`, below; the names are
historical, created by revision 0002): one record of who is who, read by the flow engine and by
sign-in alike.
Roles and org units themselves are YAML (Role and OrgUnit kinds, deployed with the bundle).
"""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

users = sa.Table(
    "banyan_users", metadata,
    sa.Column("name", sa.String(200), primary_key=True),            # = banyan_flow_people.name, what ref(user) holds
    sa.Column("password_hash", sa.String(200)),                      # argon2id; null: cannot sign in with a password
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("session_epoch", sa.Integer, nullable=False, server_default="0"),   # bumped: older sessions end
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("totp_secret", sa.String(64)),                          # base32; null: no second factor (0012)
    sa.Column("totp_last_step", sa.BigInteger),                       # the last code's time step: no replay
)

role_grants = sa.Table(
    "banyan_role_grants", metadata,
    sa.Column("role", sa.String(100), primary_key=True),
    sa.Column("permission", sa.String(50), primary_key=True),
)

api_tokens = sa.Table(
    "banyan_api_tokens", metadata,
    sa.Column("id", sa.String(24), primary_key=True),               # the public part of the token
    sa.Column("user_name", sa.String(200), nullable=False, index=True),
    sa.Column("label", sa.String(200), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),        # sha256 of the secret part
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Column("revoked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("expires_at", sa.DateTime(timezone=True)),             # 0012; a password change revokes too
    sa.Column("scope", sa.String(10), nullable=False, server_default="write"),     # "read" or "write"
)

sessions = sa.Table(                                                  # server-side sessions; revision 0012
    "banyan_sessions", metadata,
    sa.Column("id", sa.String(64), primary_key=True),                 # sha256 of the cookie's session id
    sa.Column("user_name", sa.String(200), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),                # signed out, or ended by a change
    sa.Column("ended_why", sa.String(30)),
    sa.Column("address", sa.String(100)),
)

sign_in_failures = sa.Table(                                          # lockout counters; revision 0012
    "banyan_sign_in_failures", metadata,
    sa.Column("kind", sa.String(10), primary_key=True),               # "user" or "address"
    sa.Column("key", sa.String(100), primary_key=True),               # sha256 of the typed name, or the address
    sa.Column("user_name", sa.String(200)),                           # the person, when the name is someone's
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
    sa.Column("locked_until", sa.DateTime(timezone=True)),
)

password_history = sa.Table(                                          # the last passwords (no reuse); 0012
    "banyan_password_history", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_name", sa.String(200), nullable=False, index=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

people = sa.Table(
    "banyan_flow_people", metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("display_name", sa.String(200)),
    sa.Column("org_unit", sa.String(100)),
    sa.Column("supervisor", sa.String(200)),
    sa.Column("email", sa.String(200)),
    sa.Column("phone", sa.String(50)),
    sa.Column("language", sa.String(8)),                              # messages' language (None: zh); 0006
)

role_holders = sa.Table(
    "banyan_flow_role_holders", metadata,
    sa.Column("user_name", sa.String(200), primary_key=True),
    sa.Column("role", sa.String(100), primary_key=True, index=True),
    sa.Column("org_unit", sa.String(100), primary_key=True),          # "" = bank-wide
)

deputies = sa.Table(                                                  # out of office (代理); revision 0011
    "banyan_deputies", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_name", sa.String(200), nullable=False, index=True),   # who is away
    sa.Column("deputy", sa.String(200), nullable=False),                  # who takes their new tasks
    sa.Column("starts", sa.Date, nullable=False),                         # first day away
    sa.Column("ends", sa.Date, nullable=False),                           # last day away (inclusive)
    sa.Column("reason", sa.String(200)),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
