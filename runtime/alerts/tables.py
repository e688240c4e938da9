"""The alert tables: one row per alert (its grade, state, message, evidence and answer time) and
its timeline. The Alembic revisions `0013_alerts`, `0014_alert_actions` and `0015_alert_circles` create them (frozen
copies, never an import).
Times are naive UTC, as in every Banyan table (runtime/flows/store.py `db_time`).

`banyan_alert_errors` holds, per rule and subject, the conditions the last evaluation could not
read on that subject's data (a null, a division by zero); an evaluation that reads them clears it.

At most one open alert per rule and subject: a partial unique index holds it on both databases,
so two workers evaluating the same subject at once cannot open two."""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

OPEN = "open"

alerts = sa.Table(
    "banyan_alerts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("rule", sa.String(100), nullable=False),
    sa.Column("subject_entity", sa.String(100), nullable=False),
    sa.Column("subject_id", sa.BigInteger, nullable=False),
    sa.Column("subject_key", sa.String(200)),
    sa.Column("grade", sa.String(10), nullable=False),               # yellow | orange | red
    sa.Column("status", sa.String(10), nullable=False),              # open | lifted | closed
    sa.Column("message", sa.Text, nullable=False),                   # {"zh": …, "en": …} as JSON
    sa.Column("evidence", sa.Text, nullable=False),                  # [{"label": {zh, en}, "value": …}] as JSON
    sa.Column("errors", sa.Text),                                    # conditions that could not be read, JSON
    sa.Column("deployment_version", sa.Integer, nullable=False),
    sa.Column("opened_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("due_at", sa.DateTime),
    sa.Column("cleared_at", sa.DateTime),                            # the quiet period runs since
    sa.Column("acknowledged_at", sa.DateTime),                       # a person took it in hand (签收)
    sa.Column("acknowledged_by", sa.String(200)),
    sa.Column("assigned_to", sa.String(200)),                        # the person handling it (0014)
    sa.Column("closed_at", sa.DateTime),
    sa.Column("closed_by", sa.String(200)),
    sa.Column("close_reason", sa.String(500)),
    sa.Index("ix_banyan_alerts_subject", "subject_entity", "subject_id", "rule"),
    sa.Index("ix_banyan_alerts_status", "status", "grade"),
    sa.Index("ux_banyan_alerts_open", "rule", "subject_entity", "subject_id", unique=True,
             sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'")),
)

alert_events = sa.Table(
    "banyan_alert_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),        # open | raise | lower | refresh | clear | resume | lift | close …
    sa.Column("grade", sa.String(10)),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("data", sa.Text),                               # JSON: evidence, reason …
    sa.Index("ix_banyan_alert_events_alert", "alert_id", "id"),
)

# What an alert's actions did (0014): one row per (alert, action) that starts a flow or changes
# records, written in the transaction of the step that ran it; the unique index makes a second
# one impossible, whatever runs twice.
alert_actions = sa.Table(
    "banyan_alert_actions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.Integer, nullable=False),
    sa.Column("action", sa.Integer, nullable=False),          # the action's place in the rule's list
    sa.Column("kind", sa.String(20), nullable=False),         # start_flow | update
    sa.Column("target", sa.String(200)),                      # the flow instance, or the entity changed
    sa.Column("detail", sa.Text),                             # JSON: the records changed, or why it could not run
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Index("ux_banyan_alert_actions", "alert_id", "action", unique=True),
)

alert_errors = sa.Table(
    "banyan_alert_errors", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("rule", sa.String(100), nullable=False),
    sa.Column("subject_entity", sa.String(100), nullable=False),
    sa.Column("subject_id", sa.BigInteger, nullable=False),
    sa.Column("subject_key", sa.String(200)),
    sa.Column("errors", sa.Text, nullable=False),             # [{"where": grade or "evidence N", "expression": …}]
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Index("ux_banyan_alert_errors_subject", "rule", "subject_entity", "subject_id", unique=True),
)

# Who is in each guarantee circle an alert rule watched (0015; runtime/alerts/circles.py): the
# members as of the circle's last evaluation, so the alert list shows a circle's alert to whoever
# may read one of its members. `anchor_id`: the circle's subject id (its lowest member id).
circle_members = sa.Table(
    "banyan_alert_circle_members", metadata,
    sa.Column("anchor_id", sa.BigInteger, primary_key=True),
    sa.Column("member_id", sa.BigInteger, primary_key=True),
    sa.Index("ix_banyan_alert_circle_members_member", "member_id"),
)


# What is known of a rule beyond its YAML (0016): its latest backtest (`kind: backtest`: the span,
# the counts by month, kind and grade) and the business tests that exercise it (`kind: coverage`:
# each grade with the cases that raised it), as JSON, kept for the rule's page.
rule_reports = sa.Table(
    "banyan_rule_reports", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("rule", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),          # backtest | coverage
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Index("ix_banyan_rule_reports_rule", "rule", "kind", "id"),
)
