"""Indexes on the audit log for the reads that go by entity (issue 14): the backtest's history
(an entity's updates after a moment) and a record's history (an entity's entries for one record).
Both read a few thousand rows of a log that grows by millions; without them each is a full scan.

Revision ID: 0018_audit_indexes
Revises: 0017_tier_history
"""
from alembic import op

revision = "0018_audit_indexes"
down_revision = "0017_tier_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_banyan_audit_entity_at", "banyan_audit", ["entity", "at"])
    op.create_index("ix_banyan_audit_entity_record", "banyan_audit", ["entity", "record_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_banyan_audit_entity_record", table_name="banyan_audit")
    op.drop_index("ix_banyan_audit_entity_at", table_name="banyan_audit")
