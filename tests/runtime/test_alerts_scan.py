"""A scan over the demo bank reads set-based and writes set-based (issue 13, performance): a
batch reads each table its rules reach once — a collateral's valuations too, not one query per
collateral —, only the columns the rules can name, and the alerts it ends with do not depend on
how the subjects are cut into batches (the steps written together, the rules reading alerts run
once at the end of the scope); the audit chain verifies after it."""
from __future__ import annotations

import re
import shutil
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from runtime.alerts.reads import columns_read
from runtime.alerts.service import AlertService
from runtime.alerts.tables import alert_events, alerts
from runtime.audit import log as audit
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("alerts-scan")
    mp = pytest.MonkeyPatch()
    mp.setenv("BANYAN_SECRET_FILE", str(tmp / "secret"))
    engine = make_engine(f"sqlite:///{tmp / 'demo.db'}")
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    seed_demo(Records(engine), scale=0.02, seed=42, transactions=0, actor="test")
    engine.dispose()
    yield tmp / "demo.db"
    mp.undo()


def _copy(seeded: Path, tmp_path: Path, name: str) -> AlertService:
    path = tmp_path / name
    shutil.copy(seeded, path)
    key = seeded.parent / ".banyan-audit-key"          # the audit chain's key lives beside the database
    if key.exists() and not (tmp_path / key.name).exists():
        shutil.copy(key, tmp_path / key.name)
    return AlertService(make_engine(f"sqlite:///{path}"))


def _state(service: AlertService) -> list[tuple]:
    with service.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(sa.select(
            alerts.c.rule, alerts.c.subject_entity, alerts.c.subject_key, alerts.c.grade, alerts.c.status,
            alerts.c.message, alerts.c.evidence, alerts.c.due_at)))


def test_a_batch_reads_each_table_once_whatever_its_subjects_hold(seeded, tmp_path):
    service = _copy(seeded, tmp_path, "reads.db")
    seen: Counter[str] = Counter()

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.update(set(re.findall(r"FROM (e_\w+)", statement)))

    service.records.refresh()
    with service.engine.connect() as conn:
        collaterals = conn.execute(sa.text("SELECT count(*) FROM e_collateral")).scalar()
    assert collaterals and collaterals > 3
    names = ["collateral_value_drop", "debt_ratio_high"]
    service.scan(names, at=AT)              # what it writes (disposal flows, frozen facilities) reads more
    sa.event.listen(service.engine, "before_cursor_execute", count)
    try:
        assert not service.scan(names, at=AT).steps
    finally:
        sa.event.remove(service.engine, "before_cursor_execute", count)
    assert seen["e_collateral_valuation"] == 1, seen           # not one query per collateral
    assert seen["e_collateral"] == 1 and seen["e_financial_statement"] == 1, seen


def test_a_collection_is_read_with_the_columns_its_rules_can_name(seeded, tmp_path):
    service = _copy(seeded, tmp_path, "columns.db")
    live = service.records.refresh()
    rules = [r for r in service.rules(live) if r.scope == "company"]
    columns = columns_read(live, "company", rules)
    statements = columns["financial_statement"]
    assert {"id", "company", "period_end", "revenue", "debt_ratio", "operating_cash_flow",
            "interest_cover"} <= statements
    assert "cash" not in statements and "current_liabilities" not in statements
    assert {"id", "collateral", "value"} <= columns["collateral_valuation"]
    only_debt = columns_read(live, "company", [r for r in rules if r.name == "debt_ratio_high"])
    assert "revenue" not in only_debt["financial_statement"]


def test_the_alerts_a_scan_ends_with_do_not_depend_on_its_batches(seeded, tmp_path):
    whole, cut = _copy(seeded, tmp_path, "whole.db"), _copy(seeded, tmp_path, "cut.db")
    first = whole.scan(at=AT)
    cut.scan(at=AT, batch=7)
    assert first.steps["open"] > 5
    assert _state(whole) == _state(cut)
    again = whole.scan(at=AT)                                   # idempotent: nothing left to write
    assert not again.steps and again.messages == 0
    with whole.engine.connect() as conn:
        opened = conn.execute(sa.select(sa.func.count()).select_from(alerts)).scalar()
        events = conn.execute(sa.select(sa.func.count()).select_from(alert_events)
                              .where(alert_events.c.kind == "open")).scalar()
        assert opened == events                                  # one open event per alert, none lost
        result = audit.verify(conn)
    assert result.ok, result.problems
