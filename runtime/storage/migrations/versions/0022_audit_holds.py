"""The records an audit entry about several holds (a bulk create, a list read), one row each, so a
record's history finds those entries by index instead of searching every such entry's JSON with
LIKE (a company's page at 10,000 companies spent 55 of its 117 ms there, and the cost grew with
every import and every list read). Existing entries are indexed here, a few at a time.

Revision ID: 0022_audit_holds
Revises: 0021_worker_heartbeats
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0022_audit_holds"
down_revision = "0021_worker_heartbeats"
branch_labels = None
depends_on = None

_audit = sa.table("banyan_audit", sa.column("seq", sa.BigInteger), sa.column("entity", sa.String),
                  sa.column("record_id", sa.BigInteger), sa.column("action", sa.String), sa.column("after", sa.Text))
_holds = sa.table("banyan_audit_holds", sa.column("entity", sa.String), sa.column("record_id", sa.BigInteger),
                  sa.column("seq", sa.BigInteger))


def _held(after: str | None) -> list[int]:
    """The ids an entry holds: a bulk create's list of records (each with its id), a list read's
    `ids` (frozen here: runtime/audit/search.py reads entries the same way)."""
    try:
        value = json.loads(after or "null")
    except ValueError:
        return []
    if isinstance(value, list):
        found = [r.get("id") for r in value if isinstance(r, dict)]
    elif isinstance(value, dict) and isinstance(value.get("ids"), list):
        found = value["ids"]
    else:
        return []
    return sorted({i for i in found if isinstance(i, int) and not isinstance(i, bool)})


def upgrade() -> None:
    op.create_table(
        "banyan_audit_holds",
        sa.Column("entity", sa.String(100), nullable=False),
        sa.Column("record_id", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("entity", "record_id", "seq"),
        sqlite_with_rowid=False,            # the key is the row: one B-tree to write per record, not two
    )
    conn = op.get_bind()
    seqs = conn.execute(sa.select(_audit.c.seq).where(
        _audit.c.record_id.is_(None), _audit.c.entity.isnot(None),
        _audit.c.action.in_(["create", "read_personal"])).order_by(_audit.c.seq)).scalars().all()
    for start in range(0, len(seqs), 50):              # bulk entries are large: a few at a time
        rows = conn.execute(sa.select(_audit.c.seq, _audit.c.entity, _audit.c.after)
                            .where(_audit.c.seq.in_(seqs[start:start + 50]))).all()
        holds = [{"entity": entity, "record_id": i, "seq": seq} for seq, entity, after in rows for i in _held(after)]
        if holds:
            conn.execute(_holds.insert(), holds)


def downgrade() -> None:
    op.drop_table("banyan_audit_holds")
