"""The audit chain becomes keyed: entries from now on carry an HMAC-SHA256 under a key held outside
the database (runtime/audit/key.py) instead of a plain SHA-256 anyone could recompute.
`banyan_audit_keyed` (one row) records the first keyed sequence number — the entry after the
head at upgrade time; the entries before it keep their plain hashes and still verify
(`banyan audit verify` says how many there are).

Downgrading drops the record: the keyed entries then no longer verify as plain hashes, which is
what an old Banyan would report for them.

Revision ID: 0010_audit_keyed
Revises: 0009_change_rows
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_audit_keyed"
down_revision = "0009_change_rows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    keyed = op.create_table(
        "banyan_audit_keyed",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("keyed_from", sa.BigInteger, nullable=False),
    )
    conn = op.get_bind()
    head = sa.table("banyan_audit_head", sa.column("id"), sa.column("seq"))
    log = sa.table("banyan_audit", sa.column("seq"))
    last = max(conn.execute(sa.select(sa.func.max(head.c.seq))).scalar() or 0,
               conn.execute(sa.select(sa.func.max(log.c.seq))).scalar() or 0)
    op.bulk_insert(keyed, [{"id": 1, "keyed_from": last + 1}])


def downgrade() -> None:
    op.drop_table("banyan_audit_keyed")
