"""The tiering table: each subject's tier history — one row each time a tiering's answer for a
subject changed (its tier, score, dimension scores, the row that hit or the reason it could not
be tiered). The newest row per (tiering, subject) is the current answer; the tier itself is also
written to the subject's `assign_to` field through the records service (audited, on the change
feed). The Alembic revision `0017_tier_history` creates it (a frozen copy, never an import).
Times are naive UTC, as in every Banyan table."""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

tier_history = sa.Table(
    "banyan_tier_history", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tiering", sa.String(100), nullable=False),
    sa.Column("subject_entity", sa.String(100), nullable=False),
    sa.Column("subject_id", sa.BigInteger, nullable=False),
    sa.Column("subject_key", sa.String(200)),
    sa.Column("at", sa.DateTime, nullable=False),               # the moment tiered (`--at`, or now)
    sa.Column("written_at", sa.DateTime, nullable=False),
    sa.Column("tier", sa.String(100)),                          # null: not tiered (`problem` says why)
    sa.Column("previous", sa.String(100)),
    sa.Column("problem", sa.String(40)),
    sa.Column("reason", sa.Text, nullable=False),               # {"zh", "en"}: the row that hit, the cap
    sa.Column("details", sa.Text, nullable=False),              # score, dimensions, rule, cap (JSON)
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Index("ix_banyan_tier_history_subject", "tiering", "subject_entity", "subject_id", "id"),
)
