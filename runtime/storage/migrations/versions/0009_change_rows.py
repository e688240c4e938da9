"""The change feed keeps a write's records that changed alike in one row: `banyan_changes.records`
lists them as JSON `[[id, key], …]` (the first also in `record_id`/`record_key`); a row of one
record leaves it NULL. A bulk import of 100,000 companies writes 200 feed rows instead of
100,000 (runtime/jobs/changes.py).

Downgrading splits each shared row: its first record keeps the row and its `seq`; the others are
appended as rows of their own at the end of the feed, in order. A subscriber that had already read
past the shared row sees those changes again (handlers act on the records' current state, so a
second pass changes nothing); none is lost.

Revision ID: 0009_change_rows
Revises: 0008_flow_request_fingerprint
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0009_change_rows"
down_revision = "0008_flow_request_fingerprint"
branch_labels = None
depends_on = None

_COLUMNS = ("entity", "op", "actor", "at", "fields", "deployment_version", "source")


def upgrade() -> None:
    with op.batch_alter_table("banyan_changes") as batch:
        batch.add_column(sa.Column("records", sa.Text))


def downgrade() -> None:
    conn = op.get_bind()
    changes = sa.table("banyan_changes", sa.column("seq"), sa.column("record_id"), sa.column("record_key"),
                       sa.column("records"), *(sa.column(c) for c in _COLUMNS))
    shared = conn.execute(sa.select(changes).where(changes.c.records.is_not(None))
                          .order_by(changes.c.seq)).mappings().all()
    for row in shared:
        rest = json.loads(row["records"])[1:]
        if rest:
            conn.execute(changes.insert(), [{**{c: row[c] for c in _COLUMNS}, "record_id": record_id,
                                             "record_key": key} for record_id, key in rest])
    with op.batch_alter_table("banyan_changes") as batch:
        batch.drop_column("records")
