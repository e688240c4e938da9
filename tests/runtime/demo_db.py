"""The demo bank in a test's database: Banyan's tables, the shipped configs/ deployed, the demo
data at a small scale (or a bank the test generated) and, with `people`, the demo users."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]


def demo_bank(db_url: str, *, scale: float = 0.01, bank: Any = None, people: bool = False) -> tuple[Engine, Records]:
    """(engine, records) over `db_url` holding the demo bank at `scale` (seed 42, no transactions),
    or `bank` when given (`examples.demo_bank.generate`)."""
    engine = make_engine(db_url)
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    if bank is not None:
        seed_demo(records, bank=bank, actor="test")
    else:
        seed_demo(records, scale=scale, seed=42, transactions=0, actor="test")
    if people:
        from examples.demo_bank.users import seed_demo_users
        from runtime.auth.org import OrgTree
        from runtime.auth.users import UserStore
        seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
    return engine, records
