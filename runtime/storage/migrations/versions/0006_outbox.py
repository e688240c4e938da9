"""One outbox for every feature and generic in-app notifications; a language per person.

`banyan_outbox` replaces `banyan_flow_outbox` (a message is no longer tied to a flow instance:
`source` says where it came from, `message_id` is the stable id senders pass on) and
`banyan_notifications` replaces `banyan_flow_messages` (and the send records of
`banyan_flow_deliveries`, now `sent_at` plus the notification's unique `message_id`). Messages
not yet delivered move across, their payload reshaped for the Channel templates; delivered
in-app messages move across as notifications, read or not. `banyan_flow_people.language`
picks the language messages are rendered in (empty: Chinese).

Downgrade moves flow messages back (undelivered ones to the old outbox, notifications to the
old messages); messages of other sources (alerts, …) cannot live in the old tables and are
dropped with the new ones.

Revision ID: 0006_outbox
Revises: 0005_jobs
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0006_outbox"
down_revision = "0005_jobs"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "banyan_outbox",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), nullable=False, unique=True),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("recipient", sa.String(200)),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("language", sa.String(8)),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("source", sa.String(200)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claimed_until", sa.DateTime),
        sa.Column("sent_at", sa.DateTime),
        sa.Column("last_error", sa.Text),
    )
    op.create_index("ix_banyan_outbox_pending", "banyan_outbox", ["sent_at", "due_at"])
    op.create_index("ix_banyan_outbox_source", "banyan_outbox", ["source"])
    op.create_table(
        "banyan_notifications",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), nullable=False, unique=True),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("link", sa.String(500)),
        sa.Column("source", sa.String(200)),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("read_at", sa.DateTime),
    )
    op.create_index("ix_banyan_notifications_user", "banyan_notifications", ["user_name", "read_at"])
    op.add_column("banyan_flow_people", sa.Column("language", sa.String(8)))

    conn = op.get_bind()
    pending = conn.execute(sa.text(
        "SELECT o.id, o.instance_id, o.channel, o.recipient, o.template, o.payload, o.created_at, o.attempts, "
        "o.error, i.flow, i.subject_entity, i.subject_key, i.initiator, i.outcome, i.status "
        "FROM banyan_flow_outbox o LEFT JOIN banyan_flow_instances i ON i.id = o.instance_id "
        "WHERE o.delivered_at IS NULL ORDER BY o.id")).all()
    for r in pending:
        conn.execute(sa.text(
            "INSERT INTO banyan_outbox (message_id, channel, recipient, kind, payload, source, created_at, due_at, "
            "attempts, last_error) VALUES (:m, :c, :r, :k, :p, :s, :t, :t, :a, :e)"),
            {"m": f"flow-outbox-{r.id}", "c": r.channel, "r": r.recipient, "k": r.template,
             "p": json.dumps(_flow_payload(r), ensure_ascii=False), "s": f"flow:{r.instance_id}",
             "t": r.created_at, "a": r.attempts, "e": r.error})
    conn.execute(sa.text(
        "INSERT INTO banyan_notifications (message_id, user_name, kind, title, body, link, source, created_at, "
        "read_at) SELECT 'flow-message-' || CAST(id AS VARCHAR(20)), user_name, template, '', text, "
        "'/ui/flow-instances/' || instance_id, 'flow:' || instance_id, created_at, read_at "
        "FROM banyan_flow_messages ORDER BY id"))
    op.drop_table("banyan_flow_deliveries")
    op.drop_table("banyan_flow_messages")
    op.drop_table("banyan_flow_outbox")


def _flow_payload(r) -> dict:
    """A flow message's old payload (node, task, message, by) as the templates' variables."""
    old = json.loads(r.payload or "{}")
    node, task = old.get("node") or "", old.get("task") or ""
    return {"flow": {"name": r.flow or "", "label": r.flow or "", "instance": r.instance_id,
                     "initiator": r.initiator or "", "outcome": r.outcome or "", "status": r.status or ""},
            "subject": {"entity": r.subject_entity or "", "key": r.subject_key or "", "name": r.subject_key or ""},
            "task": {"id": task, "node": node, "label": node, "deadline": "", "assignee": ""},
            "message": old.get("message") or "", "by": old.get("by") or "",
            "link": f"/ui/tasks/{task}" if task else f"/ui/flow-instances/{r.instance_id}"}


def downgrade() -> None:
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
    conn = op.get_bind()
    pending = conn.execute(sa.text(
        "SELECT source, channel, recipient, kind, payload, created_at, attempts, last_error FROM banyan_outbox "
        "WHERE sent_at IS NULL AND source LIKE 'flow:%' ORDER BY id")).all()
    for r in pending:
        new = json.loads(r.payload or "{}")
        task = new.get("task") if isinstance(new.get("task"), dict) else {}
        old = {"node": task.get("node") or None, "task": task.get("id") or None,
               "message": new.get("message") or None, "by": new.get("by") or ""}
        conn.execute(sa.text(
            "INSERT INTO banyan_flow_outbox (instance_id, channel, recipient, template, payload, created_at, "
            "attempts, error) VALUES (:i, :c, :r, :k, :p, :t, :a, :e)"),
            {"i": r.source[len("flow:"):], "c": r.channel, "r": r.recipient, "k": r.kind, "p": json.dumps(old),
             "t": r.created_at, "a": r.attempts, "e": r.last_error})
    conn.execute(sa.text(
        "INSERT INTO banyan_flow_messages (outbox_id, user_name, instance_id, template, text, created_at, read_at) "
        "SELECT -id, user_name, SUBSTR(source, 6), kind, body, created_at, read_at FROM banyan_notifications "
        "WHERE source LIKE 'flow:%' ORDER BY id"))
    op.drop_column("banyan_flow_people", "language")
    op.drop_table("banyan_notifications")
    op.drop_table("banyan_outbox")
