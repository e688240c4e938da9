"""Banyan's own tables (not the entities'): deployments, the audit chain, idempotent requests,
change requests.

These definitions are what the services query; the Alembic revisions under
runtime/migrations create and evolve them (a revision is a frozen copy, never an import).
"""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

deployments = sa.Table(
    "banyan_deployments", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.String(64), nullable=False, index=True),
    sa.Column("action", sa.String(16), nullable=False),          # deploy | rollback | promote
    sa.Column("based_on", sa.String(200)),                      # rollback: the version; promote: the source env
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("message", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sources", sa.Text, nullable=False),               # normalized YAML data as JSON
    sa.Column("model", sa.Text, nullable=False),                 # the table model as JSON
)

audit_log = sa.Table(
    "banyan_audit", metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("bundle_version", sa.Integer),
    sa.Column("action", sa.String(16), nullable=False),         # create | update | delete | deploy
    sa.Column("entity", sa.String(100)),
    sa.Column("record_id", sa.BigInteger),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

audit_holds = sa.Table(                    # the records an entry about several holds (Alembic 0022)
    "banyan_audit_holds", metadata,
    sa.Column("entity", sa.String(100), primary_key=True),
    sa.Column("record_id", sa.BigInteger, primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True),
    sqlite_with_rowid=False,
)

audit_head = sa.Table(
    "banyan_audit_head", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

requests = sa.Table(                                             # idempotency keys, per actor
    "banyan_requests", metadata,
    sa.Column("actor", sa.String(200), primary_key=True),
    sa.Column("request_id", sa.String(200), primary_key=True),
    sa.Column("entity", sa.String(100), nullable=False),
    sa.Column("command", sa.String(300), nullable=False, server_default=""),     # e.g. "update company #12"
    sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""),  # sha256 of the body
    sa.Column("response", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

protection = sa.Table(                         # the protected environment this database is (Alembic 0023)
    "banyan_protection", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),     # always 1: one row or none
    sa.Column("environment", sa.String(100), nullable=False),
    sa.Column("marked_by", sa.String(200), nullable=False),
    sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
)

change_requests = sa.Table(                    # change control (runtime/deploy/change_requests.py); Alembic 0020
    "banyan_change_requests", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("environment", sa.String(100), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),          # deploy | rollback | promote
    sa.Column("based_on", sa.String(200)),
    sa.Column("hash", sa.String(64), nullable=False),            # the bundle hash (dsl.bundle.content_hash)
    sa.Column("digest", sa.String(64), nullable=False),          # SHA-256 of the stored sources and model
    sa.Column("sources", sa.Text, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("from_version", sa.Integer),                       # what the plan was made against
    sa.Column("from_hash", sa.String(64)),
    sa.Column("allow_data_loss", sa.Text, nullable=False),       # JSON: true, or the names allowed
    sa.Column("maker", sa.String(200), nullable=False),
    sa.Column("message", sa.Text, nullable=False, server_default=""),
    sa.Column("instance_id", sa.String(40)),                     # the config_change_approval instance
    sa.Column("status", sa.String(16), nullable=False),          # waiting | deployed | rejected | refused
    sa.Column("checker", sa.String(200)),
    sa.Column("version", sa.Integer),                            # the deployment it became
    sa.Column("reason", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Index("ix_banyan_change_requests_status", "status", "id"),
)
