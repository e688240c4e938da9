"""Where the session secret lives: beside a SQLite database, in the per-user data directory for a
server database, never in the working directory; BANYAN_SECRET_KEY / BANYAN_SECRET_FILE win."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from runtime.auth.session import data_dir, secret_file, secret_key
from runtime.storage.db import ConfigError, make_engine

ROOT = Path(__file__).resolve().parents[2]
PG = "postgresql+psycopg://banyan@db.internal:5432/banyan"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in ("BANYAN_SECRET_KEY", "BANYAN_SECRET_FILE", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_beside_a_sqlite_database(tmp_path, clean_env):
    url = f"sqlite:///{tmp_path / 'data' / 'banyan.db'}"
    (tmp_path / "data").mkdir()
    key = secret_key(url)
    path = tmp_path / "data" / ".banyan-secret"
    assert path.read_text(encoding="utf-8").strip() == key and len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key(url) == key                                     # made once, then read
    assert not (clean_env / ".banyan-secret").exists()               # the working directory stays clean


def test_a_relative_sqlite_path_is_beside_that_file(tmp_path, clean_env):
    (clean_env / "db").mkdir()
    assert secret_file("sqlite:///db/banyan.db") == clean_env / "db" / ".banyan-secret"


def test_a_server_database_uses_the_per_user_data_directory(tmp_path, monkeypatch, clean_env):
    key = secret_key(PG)
    made = tmp_path / "home" / ".local" / "share" / "banyan" / ".banyan-secret"
    assert made.read_text(encoding="utf-8").strip() == key
    assert stat.S_IMODE(made.parent.stat().st_mode) == 0o700
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir(PG) == tmp_path / "xdg" / "banyan"
    assert data_dir("sqlite://") == data_dir("sqlite:///:memory:") == tmp_path / "xdg" / "banyan"
    assert not (clean_env / ".banyan-secret").exists()


def test_the_environment_wins(tmp_path, monkeypatch):
    chosen = tmp_path / "elsewhere" / "secret"
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(chosen))
    key = secret_key(f"sqlite:///{tmp_path / 'banyan.db'}")
    assert chosen.read_text(encoding="utf-8").strip() == key
    assert not (tmp_path / ".banyan-secret").exists()
    monkeypatch.setenv("BANYAN_SECRET_KEY", "k" * 40)
    assert secret_key(PG) == "k" * 40


def test_an_unwritable_place_is_a_clear_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(blocker / "secret"))
    with pytest.raises(ConfigError, match=r"cannot write the session secret .*a-file/secret .*BANYAN_SECRET_KEY"):
        secret_key(PG)


def test_the_web_app_keeps_its_secret_beside_its_database(tmp_path, clean_env):
    from runtime.web.app import create_app
    engine = make_engine(f"sqlite:///{tmp_path / 'banyan.db'}")
    try:
        create_app(engine)
    finally:
        engine.dispose()
    assert (tmp_path / ".banyan-secret").is_file()
    assert not (clean_env / ".banyan-secret").exists()


def test_no_secret_is_shipped():
    assert not list((ROOT / "runtime").rglob(".banyan-secret"))
    assert ".banyan-secret" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


def test_processes_starting_together_share_one_secret(tmp_path, monkeypatch):
    """`serve --workers N` starts N processes at once: each must sign with the same secret, the one
    that reached the disk first — never one of its own (a session signed by one would not open in another)."""
    import multiprocessing as mp
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    monkeypatch.delenv("BANYAN_SECRET_KEY", raising=False)
    ctx = mp.get_context("fork")
    go, out = ctx.Barrier(6), ctx.Queue()

    def start() -> None:
        go.wait()
        out.put(secret_key(None))
    procs = [ctx.Process(target=start) for _ in range(6)]
    for p in procs:
        p.start()
    keys = {out.get(timeout=30) for _ in procs}
    for p in procs:
        p.join()
    assert len(keys) == 1 and keys == {(tmp_path / "secret").read_text(encoding="utf-8").strip()}
    assert not [x.name for x in tmp_path.iterdir() if x.name.startswith(".secret")]      # no spare left behind
