"""Where the audit chain's key lives (issue 16, part 4): BANYAN_AUDIT_KEY, else BANYAN_AUDIT_KEY_FILE,
else a 0600 file made beside the session secret's file; `banyan status` says which. A key file
lost after entries were signed with it is an error, never a quiet new key."""
from __future__ import annotations

import json
import stat

import pytest
import sqlalchemy as sa

from runtime.audit import log as audit
from runtime.audit.key import AuditKeyError, key_source
from runtime.auth.session import secret_file

from .records_bundle import FILES, deploy
from .test_cli import run


@pytest.fixture(autouse=True)
def clean_env(tmp_path, monkeypatch):
    for name in ("BANYAN_AUDIT_KEY", "BANYAN_AUDIT_KEY_FILE", "BANYAN_SECRET_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path


@pytest.mark.parametrize("url", ["sqlite:///db/banyan.db", "postgresql+psycopg://bank@db.internal/banyan",
                                 "sqlite://"])
def test_the_key_file_sits_in_the_databases_data_directory(url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert key_source(url).path == secret_file(url).parent / ".banyan-audit-key"
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "etc" / "secret"))      # the session's: not followed
    assert key_source(url).path != tmp_path / "etc" / ".banyan-audit-key"
    monkeypatch.setenv("BANYAN_AUDIT_KEY_FILE", str(tmp_path / "vault" / "audit.key"))
    assert key_source(url).path == tmp_path / "vault" / "audit.key"
    monkeypatch.setenv("BANYAN_AUDIT_KEY", "k" * 40)
    assert key_source(url).kind == "env" and "BANYAN_AUDIT_KEY" in key_source(url).describe()


def test_the_first_audited_change_makes_a_0600_key_and_status_says_where(engine, db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_AUDIT_KEY_FILE", str(tmp_path / "conf" / ".banyan-audit-key"))
    key_file = tmp_path / "conf" / ".banyan-audit-key"
    r = run(db_url, "deploy", _bundle_dir(tmp_path))
    assert r.exit_code == 0, r.output
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) >= 32
    r = run(db_url, "status")
    assert f"audit key: file {key_file}" in r.output
    data = json.loads(run(db_url, "status", "--format", "json").output)
    assert data["audit_key"] == {"kind": "file", "where": f"file {key_file}"}
    monkeypatch.setenv("BANYAN_AUDIT_KEY", "a key from the vault, long enough to be one")
    assert "audit key: environment variable BANYAN_AUDIT_KEY" in run(db_url, "status").output


def test_a_lost_key_file_is_an_error_not_a_new_key(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_AUDIT_KEY_FILE", str(tmp_path / "k1"))
    deploy(engine, *FILES)
    (tmp_path / "k1").rename(tmp_path / "k1.saved")
    audit._SIGNERS.clear()                                                 # a fresh process's view
    with pytest.raises(AuditKeyError, match="is missing, but audit entries 1–1 were signed with it"):
        with engine.begin() as conn:
            audit.append(conn, [audit.AuditEntry("x", "create", "group", 1, None, "{}")], 1)
    assert not (tmp_path / "k1").exists()
    with engine.connect() as conn:
        res = audit.verify(conn)
    assert not res.ok and "the audit key (file" in res.problems[0] and "is missing" in res.problems[0]
    (tmp_path / "k1.saved").rename(tmp_path / "k1")
    with engine.connect() as conn:
        assert audit.verify(conn).ok


def test_a_short_key_is_refused_with_what_to_do(engine, monkeypatch):
    monkeypatch.setenv("BANYAN_AUDIT_KEY", "short")
    with pytest.raises(AuditKeyError, match="shorter than 32 characters"):
        deploy(engine, *FILES)
    with engine.connect() as conn:                   # nothing was written: the deploy's transaction rolled back
        assert conn.execute(sa.text("SELECT count(*) FROM banyan_deployments")).scalar() == 0


def _bundle_dir(tmp_path):
    from .test_cli import write_bundle
    return write_bundle(tmp_path / "bundle", FILES)
