"""`banyan backup` and `banyan restore` (issue 17, Operations), on SQLite and PostgreSQL: a bank
with records and a flow step backed up while it runs, restored into a fresh database whose audit
chain verifies and whose rows match; a tampered restored copy fails verify; refusals that leave
nothing half-written."""
from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from runtime.flows.service import FlowService
from runtime.records.service import Records
from runtime.storage.backup import MANIFEST, table_counts
from runtime.storage.db import make_engine

from .conftest import PG_URL, fresh_pg_schema
from .flow_bank import make_bank
from .test_cli import run
from .test_flow_service import CREDIT, act

KEY = "k" * 40


@pytest.fixture(autouse=True)
def one_key(monkeypatch, tmp_path):
    """Source and target share the audit key, as a bank's app servers do (BANYAN_AUDIT_KEY)."""
    monkeypatch.setenv("BANYAN_AUDIT_KEY", KEY)
    monkeypatch.delenv("BANYAN_AUDIT_KEY_FILE", raising=False)
    monkeypatch.delenv("BANYAN_PG_BIN", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def target_url(db_url, tmp_path):
    """A fresh, empty database to restore into: another SQLite file, or a new PostgreSQL database
    whose schema is named otherwise than the source's."""
    if db_url.startswith("sqlite"):
        (tmp_path / "restored").mkdir()
        yield f"sqlite:///{tmp_path / 'restored' / 'banyan.db'}"
        return
    name = "bk_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield f"{url}?options=-csearch_path%3Drestored"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


def _bank(engine):
    """The shipped configs, a group and companies, one credit request with its first step done."""
    flows = make_bank(engine)
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 2 * 10**8, **CREDIT})
    v = act(flows, v, "complete", "document_review", "officer", fields={"review_opinion": "complete"})
    return v


def _restored(url):
    return make_engine(url)


def test_a_backup_restores_into_a_fresh_database_whose_audit_chain_verifies(engine, db_url, target_url, tmp_path):
    view = _bank(engine)
    path = tmp_path / "backups" / "monday"
    path.parent.mkdir()
    r = run(db_url, "backup", str(path), "--verify")
    assert r.exit_code == 0, r.output
    assert "checksum matches" in r.output and "audit key is not in the backup" in r.output
    manifest = json.loads((path / MANIFEST).read_text())
    with engine.connect() as conn:
        source_counts = table_counts(conn)
        head = conn.execute(sa.text("SELECT seq, hash FROM banyan_audit_head")).one()
    assert manifest["counts"] == source_counts and manifest["audit_head"] == {"seq": head.seq, "hash": head.hash}
    assert manifest["deployment"]["version"] == 1 and manifest["migration"]
    assert source_counts["banyan_flow_events"] > 0 and head.seq >= 6
    assert [p.name for p in path.parent.iterdir()] == ["monday"]          # nothing partial left beside it

    r = run(target_url, "restore", str(path))
    assert r.exit_code == 0, r.output
    assert f"audit log intact: {head.seq} entries" in r.output and "deployment v1" in r.output
    assert run(target_url, "audit", "verify").exit_code == 0
    target = _restored(target_url)
    try:
        with target.connect() as conn:
            assert table_counts(conn) == source_counts
        # the restored bank works on: the request is where it was, and new entries chain on
        again = FlowService(target).instance(view["id"])
        assert again["current_nodes"] == view["current_nodes"]
        Records(target).create("group", {"code": "G0002", "name": "After", "industry": "manufacturing",
                                         "lead_branch": "bj_branch", "recognized_on": "2021-01-01",
                                         "tier": "stable_cooperation"}, actor="test")
    finally:
        target.dispose()
    r = run(target_url, "audit", "verify")
    assert r.exit_code == 0 and f"{head.seq + 1} entries" in r.output, r.output

    # a tampered restored copy fails verify
    tampered = _restored(target_url)
    try:
        with tampered.begin() as conn:
            conn.execute(sa.text("UPDATE banyan_audit SET actor = 'mallory' WHERE seq = 2"))
    finally:
        tampered.dispose()
    r = run(target_url, "audit", "verify")
    assert r.exit_code == 1 and "entry 2" in r.output and "was edited" in r.output, r.output


def test_a_backup_taken_while_writers_write_is_one_consistent_moment(engine, db_url, target_url, tmp_path):
    _bank(engine)
    records = Records(engine)
    stop = threading.Event()
    written: list[int] = []
    failed: list[BaseException] = []

    def write() -> None:
        try:
            while not stop.is_set() and len(written) < 400:
                records.create("group", {"code": f"G{len(written) + 1000:04d}", "name": "Busy", "industry": "manufacturing",
                                         "lead_branch": "bj_branch", "recognized_on": "2020-01-01",
                                         "tier": "stable_cooperation"}, actor="writer")
                written.append(1)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            failed.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        r = run(db_url, "backup", str(tmp_path / "busy"))
    finally:
        stop.set()
        writer.join()
    assert r.exit_code == 0, r.output
    assert not failed and written
    manifest = json.loads((tmp_path / "busy" / MANIFEST).read_text())
    r = run(target_url, "restore", str(tmp_path / "busy"))
    assert r.exit_code == 0 and "audit log intact" in r.output, r.output
    target = _restored(target_url)
    try:
        with target.connect() as conn:
            counts = table_counts(conn)
            head = conn.execute(sa.text("SELECT seq FROM banyan_audit_head")).scalar()
    finally:
        target.dispose()
    assert counts == manifest["counts"] and head == manifest["audit_head"]["seq"]
    assert counts["banyan_audit"] == head           # every group written before the copy, with its entry


def test_restore_refuses_a_non_empty_target_unless_forced(engine, db_url, target_url, tmp_path):
    _bank(engine)
    assert run(db_url, "backup", str(tmp_path / "b")).exit_code == 0
    assert run(target_url, "restore", str(tmp_path / "b")).exit_code == 0
    other = _restored(target_url)
    try:
        with other.begin() as conn:
            conn.execute(sa.text("DELETE FROM e_company"))
    finally:
        other.dispose()
    r = run(target_url, "restore", str(tmp_path / "b"))
    assert r.exit_code == 2 and "is not empty" in r.output and "--force" in r.output and "nothing was changed" in r.output
    assert "Traceback" not in r.output
    other = _restored(target_url)
    try:
        with other.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM e_company")).scalar() == 0       # untouched
    finally:
        other.dispose()
    r = run(target_url, "restore", str(tmp_path / "b"), "--force")
    assert r.exit_code == 0 and "replaced" in r.output and "audit log intact" in r.output, r.output
    other = _restored(target_url)
    try:
        with other.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM e_company")).scalar() == 2
            if db_url.startswith("postgresql"):                       # the old schema set aside is gone
                names = conn.execute(sa.text("SELECT nspname FROM pg_namespace WHERE nspname LIKE '%replaced%'"))
                assert names.all() == []
    finally:
        other.dispose()

    # the bank's own database put back as it was at the backup (a roll-back over itself)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM e_company"))
    engine.dispose()
    r = run(db_url, "restore", str(tmp_path / "b"), "--force")
    assert r.exit_code == 0 and "replaced" in r.output and "audit log intact" in r.output, r.output
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM e_company")).scalar() == 2


def test_a_damaged_or_newer_backup_is_refused_before_anything_changes(engine, db_url, target_url, tmp_path):
    _bank(engine)
    path = tmp_path / "b"
    assert run(db_url, "backup", str(path)).exit_code == 0
    manifest = json.loads((path / MANIFEST).read_text())

    # from a newer Banyan: a migration this one does not know
    newer = dict(manifest, migration="9999_from_the_future")
    (path / MANIFEST).write_text(json.dumps(newer))
    r = run(target_url, "restore", str(path))
    assert r.exit_code == 2 and "9999_from_the_future" in r.output and "newer Banyan" in r.output, r.output
    (path / MANIFEST).write_text(json.dumps(manifest))

    # the copy changed after it was written
    copy = path / manifest["file"]
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    r = run(target_url, "restore", str(path))
    assert r.exit_code == 2 and "SHA-256 differs" in r.output, r.output
    r = run(db_url, "backup", "--verify", str(tmp_path / "fresh"))
    assert r.exit_code == 0, r.output

    # not a backup
    r = run(target_url, "restore", str(tmp_path / "nowhere"))
    assert r.exit_code == 2 and "no such backup directory" in r.output
    (tmp_path / "empty").mkdir()
    r = run(target_url, "restore", str(tmp_path / "empty"))
    assert r.exit_code == 2 and "not a Banyan backup" in r.output
    target = _restored(target_url)
    try:
        with target.connect() as conn:
            assert sa.inspect(conn).get_table_names() == []                  # nothing was restored
    finally:
        target.dispose()


def test_backup_refuses_a_taken_or_unwritable_place_and_leaves_nothing(engine, db_url, tmp_path, monkeypatch):
    make_bank(engine)
    taken = tmp_path / "taken"
    taken.mkdir()
    r = run(db_url, "backup", str(taken))
    assert r.exit_code == 2 and "exists already" in r.output and "nothing was written" in r.output
    r = run(db_url, "backup", str(tmp_path / "no" / "such" / "dir"))
    assert r.exit_code == 2 and "no such directory" in r.output and "mkdir -p" in r.output
    r = run(db_url, "backup", "/proc/banyan-backup")
    assert r.exit_code == 2 and "cannot write in /proc" in r.output, r.output
    if db_url.startswith("postgresql"):
        monkeypatch.setenv("BANYAN_PG_BIN", str(tmp_path / "taken"))             # no pg_dump there
        r = run(db_url, "backup", str(tmp_path / "b"))
        assert r.exit_code == 2 and "pg_dump is not installed" in r.output and "postgresql-client" in r.output
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name or p.name == "b") == []
    assert "Traceback" not in r.output


def test_a_restore_without_the_audit_key_says_where_the_key_was(tmp_path, monkeypatch):
    """The key stays out of the backup; a restore into a place without it fails verify and says so."""
    monkeypatch.delenv("BANYAN_AUDIT_KEY")                   # the key file beside each SQLite file
    source = f"sqlite:///{tmp_path / 'src' / 'banyan.db'}"
    (tmp_path / "src").mkdir()
    (tmp_path / "dst").mkdir()
    eng = make_engine(source)
    try:
        _bank(eng)
    finally:
        eng.dispose()
    assert (tmp_path / "src" / ".banyan-audit-key").exists()
    assert run(source, "backup", str(tmp_path / "b")).exit_code == 0
    target = f"sqlite:///{tmp_path / 'dst' / 'banyan.db'}"
    r = run(target, "restore", str(tmp_path / "b"))
    assert r.exit_code == 1 and "audit chain does not verify" in r.output, r.output
    assert str(tmp_path / "src" / ".banyan-audit-key") in r.output and str(tmp_path / "dst") in r.output
    assert not (tmp_path / "dst" / ".banyan-audit-key").exists()           # no new key was made
    Path(tmp_path / "dst" / ".banyan-audit-key").write_bytes((tmp_path / "src" / ".banyan-audit-key").read_bytes())
    assert run(target, "audit", "verify").exit_code == 0


def test_a_sqlite_backup_does_not_restore_into_postgresql(tmp_path):
    with fresh_pg_schema() as pg:
        source = f"sqlite:///{tmp_path / 'banyan.db'}"
        eng = make_engine(source)
        try:
            make_bank(eng)
        finally:
            eng.dispose()
        assert run(source, "backup", str(tmp_path / "b")).exit_code == 0
        r = run(pg, "restore", str(tmp_path / "b"))
        assert r.exit_code == 2 and "backup is of a sqlite database and the target is postgresql" in r.output


def test_a_failed_postgresql_restore_puts_the_replaced_schema_back(tmp_path, monkeypatch):
    """pg_restore failing half way (a stand-in that fails) leaves the forced target as it was."""
    import shutil
    with fresh_pg_schema() as source, fresh_pg_schema() as target:
        eng = make_engine(source)
        try:
            make_bank(eng)
            assert run(source, "backup", str(tmp_path / "b")).exit_code == 0
            with eng.begin() as conn:                           # a change after the backup
                conn.execute(sa.text("DELETE FROM e_company WHERE id = 1"))
        finally:
            eng.dispose()
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir()
        real = shutil.which("pg_restore")
        failing = bin_dir / "pg_restore"
        failing.write_text(f'#!/bin/sh\ncase "$*" in *--list*) exec {real} "$@";; esac\n'
                           'echo "pg_restore: error: could not execute query: disk full" >&2\nexit 1\n')
        failing.chmod(0o755)
        monkeypatch.setenv("BANYAN_PG_BIN", str(bin_dir))
        schema = sa.make_url(target).query["options"].split("=")[1]
        source_schema = sa.make_url(source).query["options"].split("=")[1]
        # the backup's schema exists beside the target (same database): refused outright
        r = run(target, "restore", str(tmp_path / "b"), "--force")
        assert r.exit_code == 2 and f"schema {source_schema!r}, which exists in the target database" in r.output
        # into its own schema over itself: pg_restore fails, the old schema comes back
        r = run(source, "restore", str(tmp_path / "b"), "--force")
        assert r.exit_code == 2 and "pg_restore failed" in r.output and "disk full" in r.output, r.output
        eng = make_engine(source)
        try:
            with eng.connect() as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM e_company")).scalar() == 1   # as it was
                left = conn.execute(sa.text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"),
                                    {"p": f"{source_schema}%"}).scalars().all()
        finally:
            eng.dispose()
        assert left == [source_schema] and schema != source_schema
