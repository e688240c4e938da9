"""Retention (issue 17, Operations): audit, alert and flow history past its retention moves to the
archive tables — nothing deleted — and the audit chain verifies across log and archive; a
tampered archived entry still fails verify. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from runtime.alerts.tables import alert_events, alerts
from runtime.audit.log import written_at
from runtime.storage.archive import Retention, archive, before

from .flow_bank import make_bank
from .test_cli import run
from .test_flow_service import CREDIT

OLD = datetime(2020, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def one_key(monkeypatch, tmp_path):
    monkeypatch.setenv("BANYAN_AUDIT_KEY", "k" * 40)
    monkeypatch.setenv("BANYAN_CONFIG", str(tmp_path / "banyan.toml"))


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


def _alert(conn, status: str, closed_at: datetime | None) -> int:
    now = datetime(2026, 1, 1)
    alert_id = conn.execute(alerts.insert().values(
        rule="r", subject_entity="company", subject_id=1, grade="red", status=status, message="{}", evidence="[]",
        deployment_version=1, opened_at=now, updated_at=now, closed_at=closed_at)).inserted_primary_key[0]
    conn.execute(alert_events.insert().values(alert_id=alert_id, at=now, kind="open", actor="system"))
    return alert_id


def test_history_past_its_retention_moves_to_the_archive_and_the_chain_still_verifies(engine, db_url, tmp_path):
    with written_at(OLD):                                   # a bank whose first years lie long behind
        flows = make_bank(engine)
    old_entries = _count(engine, "banyan_audit")
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 2 * 10**8, **CREDIT})
    flows.act(v["id"], "cancel", actor="rm", reason="撤回")          # finished on the flow clock (2026-03-02)
    running = flows.start("group_credit_approval", actor="rm", subject="G0001",
                          form={"amount": 10**8, **CREDIT})["id"]
    with written_at(OLD):                                   # dated old, but after newer entries: it stays
        flows.act(running, "cancel", actor="rm", reason="again")
    with engine.begin() as conn:
        closed_long_ago = _alert(conn, "closed", datetime(2024, 1, 1))
        _alert(conn, "open", None)
        _alert(conn, "closed", datetime(2026, 11, 30))
    total = _count(engine, "banyan_audit")
    events_before = _count(engine, "banyan_flow_events")
    (tmp_path / "banyan.toml").write_text('[retention]\naudit = "2y"\nalerts = "1y"\nflows = "90d"\n')

    r = run(db_url, "archive", "--dry-run")
    assert r.exit_code == 0, r.output
    assert f"would move {old_entries:,} from banyan_audit" in r.output
    assert "would move 1 from banyan_alert_events, 0 from banyan_alert_actions, 1 from banyan_alerts" in r.output
    assert _count(engine, "banyan_audit") == total and _count(engine, "banyan_audit_archive") == 0

    r = run(db_url, "archive")
    assert r.exit_code == 0, r.output
    assert f"audit log intact across log and archive: {total:,} entries" in r.output
    assert _count(engine, "banyan_audit_archive") == old_entries
    assert _count(engine, "banyan_audit") + old_entries == total
    with engine.connect() as conn:                          # the archive is the chain's prefix
        assert conn.execute(sa.text("SELECT max(seq) FROM banyan_audit_archive")).scalar() == old_entries
        assert conn.execute(sa.text("SELECT id FROM banyan_alerts_archive")).scalars().all() == [closed_long_ago]
        assert conn.execute(sa.text("SELECT status FROM banyan_alerts ORDER BY id")).scalars().all() == ["open", "closed"]
        archived = conn.execute(sa.text("SELECT DISTINCT instance_id FROM banyan_flow_events_archive")).scalars().all()
    assert set(archived) == {v["id"], running}             # both cancelled in March (flow clock), >90 days ago
    assert _count(engine, "banyan_flow_events") + _count(engine, "banyan_flow_events_archive") == events_before
    assert run(db_url, "audit", "verify").exit_code == 0

    r = run(db_url, "archive")                              # again: nothing left to move
    assert r.exit_code == 0 and "moved 0 from banyan_audit" in r.output

    with engine.begin() as conn:                            # an archived entry rewritten
        actor = conn.execute(sa.text("SELECT actor FROM banyan_audit_archive WHERE seq = 1")).scalar()
        conn.execute(sa.text("UPDATE banyan_audit_archive SET actor = 'mallory' WHERE seq = 1"))
    r = run(db_url, "audit", "verify")
    assert r.exit_code == 1 and "entry 1 " in r.output and "was edited" in r.output, r.output
    with engine.begin() as conn:                            # … or deleted from the archive
        conn.execute(sa.text("UPDATE banyan_audit_archive SET actor = :a WHERE seq = 1"), {"a": actor})
    assert run(db_url, "audit", "verify").exit_code == 0
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM banyan_audit_archive WHERE seq = 2"))
    r = run(db_url, "audit", "verify")
    assert r.exit_code == 1 and "entry 2 is missing" in r.output, r.output


def test_retention_settings_are_checked(db_url, tmp_path):
    (tmp_path / "banyan.toml").write_text('[retention]\naudit = "seven years"\n')
    r = run(db_url, "archive", "--dry-run")
    assert r.exit_code == 2 and '"7y"' in r.output and "Traceback" not in r.output
    (tmp_path / "banyan.toml").write_text('[retention]\nlogs = "7y"\n')
    r = run(db_url, "archive", "--dry-run")
    assert r.exit_code == 2 and "not logs" in r.output
    (tmp_path / "banyan.toml").write_text("")
    r = run(db_url, "archive", "--dry-run")
    assert r.exit_code == 0 and r.output.count("kept for ever") == 3


def test_durations_count_by_the_calendar():
    now = datetime(2024, 3, 31, 12, tzinfo=timezone.utc)
    assert before(now, "1m") == datetime(2024, 2, 29, 12, tzinfo=timezone.utc)
    assert before(now, "7y") == datetime(2017, 3, 31, 12, tzinfo=timezone.utc)
    assert before(now, "2w") == now - timedelta(days=14)
    assert Retention(audit="400d").cutoff("audit", now) == now - timedelta(days=400)
    assert Retention().cutoff("flows", now) is None
    assert archive.__doc__


def test_the_scheduled_job_archives_with_the_settings_of_its_run(engine, tmp_path):
    from runtime.jobs import scheduler
    from runtime.storage.archive import ARCHIVE_EVERY, archive_job
    from runtime.storage.migrate import upgrade
    upgrade(engine)
    with written_at(OLD):
        make_bank(engine)
    entries = _count(engine, "banyan_audit")
    assert archive_job(engine, "w1") == 0                           # no settings: nothing moves
    (tmp_path / "banyan.toml").write_text('[retention]\naudit = "400d"\n')
    scheduler.register_job("archive", ARCHIVE_EVERY, archive_job)
    try:
        scheduler.run_once(engine)
    finally:
        scheduler.unregister_job("archive")
    assert _count(engine, "banyan_audit_archive") == entries       # every old entry moved
    with engine.connect() as conn:                                 # what stays: written by this run's other jobs
        oldest = conn.execute(sa.text("SELECT min(at) FROM banyan_audit")).scalar()
    assert oldest is None or str(oldest)[:4] > str(OLD.year)
    assert archive_job(engine, "w2") == 0
