"""The flow runtime's tables: instances, their timeline, the inbox's tasks, idempotent requests
and due timers. Messages go through the jobs room's outbox and notifications
(runtime/jobs/outbox_tables.py; revision 0006 moved the flow outbox and messages there). The
people directory (who holds which role where) is the auth room's (runtime/auth/tables.py).

These definitions are what the flow services query; the Alembic revision
`0002_flow_tables` creates them (a frozen copy, never an import). Every timestamp column holds
naive UTC (`flow_store.db_time`), the same on SQLite and PostgreSQL, so `due_at <= now`
compares the same way on both."""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

instances = sa.Table(
    "banyan_flow_instances", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("flow", sa.String(100), nullable=False),
    sa.Column("deployment_version", sa.Integer, nullable=False),      # pinned: the instance runs this bundle
    sa.Column("subject_entity", sa.String(100)),
    sa.Column("subject_key", sa.String(200)),
    sa.Column("initiator", sa.String(200), nullable=False),
    sa.Column("state", sa.Text, nullable=False),                       # engine.flow.to_json, as JSON text
    sa.Column("version", sa.Integer, nullable=False),                  # optimistic concurrency
    sa.Column("status", sa.String(16), nullable=False),                # running | finished | cancelled
    sa.Column("outcome", sa.String(100)),
    sa.Column("parent_id", sa.String(64)),                             # a subflow's caller
    sa.Column("parent_call", sa.String(64)),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Index("ix_banyan_flow_instances_flow_status", "flow", "status"),
    sa.Index("ix_banyan_flow_instances_subject", "subject_entity", "subject_key"),
    sa.Index("ix_banyan_flow_instances_running", "status", "flow", "deployment_version"),    # 0007: events.py
)

events = sa.Table(
    "banyan_flow_events", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("instance_id", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),                  # the instance version the event produced
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("node", sa.String(100)),
    sa.Column("task", sa.String(100)),
    sa.Column("data", sa.Text, nullable=False),
    sa.Index("ix_banyan_flow_events_instance", "instance_id", "id"),
)

tasks = sa.Table(
    "banyan_flow_tasks", metadata,
    sa.Column("id", sa.String(100), primary_key=True),                 # "<instance>/<n>", as the engine names it
    sa.Column("instance_id", sa.String(64), nullable=False, index=True),
    sa.Column("flow", sa.String(100), nullable=False),
    sa.Column("node", sa.String(100), nullable=False),
    sa.Column("assignee", sa.String(200), index=True),                 # None: a pool task (see task_candidates)
    sa.Column("owner", sa.String(200)),                                # who delegated it
    sa.Column("held", sa.Boolean, nullable=False, default=False),
    sa.Column("status", sa.String(16), nullable=False),                # open | done | cancelled
    sa.Column("close_reason", sa.String(100)),
    sa.Column("closed_by", sa.String(200), index=True),
    sa.Column("due_at", sa.DateTime),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("closed_at", sa.DateTime),
    sa.Index("ix_banyan_flow_tasks_status_due", "status", "due_at"),
)

task_candidates = sa.Table(
    "banyan_flow_task_candidates", metadata,
    sa.Column("task_id", sa.String(100), primary_key=True),
    sa.Column("user_name", sa.String(200), primary_key=True, index=True),
)

ccs = sa.Table(
    "banyan_flow_cc", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("instance_id", sa.String(64), nullable=False),
    sa.Column("user_name", sa.String(200), nullable=False, index=True),
    sa.Column("node", sa.String(100)),
    sa.Column("task", sa.String(100)),
    sa.Column("by", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
)

requests = sa.Table(
    "banyan_flow_requests", metadata,                               # idempotency keys, per actor
    sa.Column("actor", sa.String(200), primary_key=True),
    sa.Column("request_id", sa.String(200), primary_key=True),
    sa.Column("command", sa.String(300), nullable=False),              # what the id was first used for
    sa.Column("fingerprint", sa.String(64), nullable=False, server_default=""),  # sha256 of its body (0008)
    sa.Column("instance_id", sa.String(64), nullable=False),
    sa.Column("response", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
)

timers = sa.Table(
    "banyan_flow_timers", metadata,
    sa.Column("instance_id", sa.String(64), primary_key=True),
    sa.Column("timer", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("due_at", sa.DateTime, nullable=False, index=True),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", sa.DateTime),
)
