"""The demo comes through the `banyan.demo` entry point (the runtime never imports examples/), and
`banyan serve` warns loudly while a demo person can sign in with the published demo password."""
from __future__ import annotations

import ast
import logging
import shutil
import threading
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsl.compiler import compile_path
from examples.demo_bank.users import DEMO_PASSWORD, DEMO_USERS
from runtime.auth.users import UserStore
from runtime.cli import seed as seed_module
from runtime.cli.main import main
from runtime.cli.seed import DEMO_CHECK_THREAD, SeedError, check_demo_users, load_demo, seed_demo_users, warn_demo_users
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.live import load_live
from runtime.deploy.releases import release_of
from runtime.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
DEMO_NAMES = [name for name, *_ in DEMO_USERS]


def test_the_runtime_never_imports_examples():
    offenders = []
    for path in (ROOT / "runtime").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(ROOT)}:{node.lineno}" for n in names if n.split(".")[0] == "examples"]
        assert "sys.path" not in path.read_text(encoding="utf-8"), path
    assert offenders == []


def test_the_demo_bank_is_an_installed_entry_point():
    demo = load_demo()
    assert demo.name == "bank" and demo.entity_order[0] == "group" and "company" in demo.entity_order
    assert list(demo.user_names) == DEMO_NAMES and demo.password == DEMO_PASSWORD
    assert load_demo("bank") is demo


def test_without_a_demo_installed_it_says_what_to_install(monkeypatch, db_url):
    monkeypatch.setattr(seed_module, "installed_demos", lambda: {})
    with pytest.raises(SeedError, match=r"no demo is installed .*pip install -e \./examples"):
        load_demo()
    r = CliRunner().invoke(main, ["seed", "demo"], env={"BANYAN_DATABASE_URL": db_url})
    assert r.exit_code == 2 and "no demo is installed" in r.output and "Traceback" not in r.output


def test_a_broken_or_ambiguous_demo_is_a_clear_error(monkeypatch):
    eps = {"bank": EntryPoint("bank", "examples.demo_bank.plugin:DEMO", "banyan.demo"),
           "gone": EntryPoint("gone", "no_such_module_here:DEMO", "banyan.demo"),
           "odd": EntryPoint("odd", "examples.demo_bank.users:DEMO_GRANTS", "banyan.demo")}
    monkeypatch.setattr(seed_module, "installed_demos", lambda: eps)
    with pytest.raises(SeedError, match=r"several demos are installed \(bank, gone, odd\); choose one with --demo"):
        load_demo()
    with pytest.raises(SeedError, match=r"`gone` \(no_such_module_here:DEMO\) cannot be loaded; reinstall"):
        load_demo("gone")
    with pytest.raises(SeedError, match=r"`odd` .* lacks generate, entity_order, seed_users, user_names, password"):
        load_demo("odd")
    with pytest.raises(SeedError, match=r"no demo `mars` is installed; installed: bank, gone, odd"):
        load_demo("mars")


@pytest.fixture
def demo_people(engine, tmp_path):
    """The shipped org units and roles deployed, and the demo people in them."""
    bundle_dir = tmp_path / "org"
    bundle_dir.mkdir()
    for sub in ("org", "roles"):
        for f in (ROOT / "configs" / sub).glob("*.yaml"):
            shutil.copy(f, bundle_dir / f.name)
    upgrade(engine)
    result = compile_path(str(bundle_dir))
    assert result.ok
    DeploymentRegistry(engine).deploy(release_of(result.bundle), author="test", message="org")
    made = seed_demo_users(engine, load_live(engine).bundle)
    assert made == DEMO_NAMES
    return UserStore(engine)


def test_serve_warns_while_the_demo_password_works(engine, demo_people, capsys, caplog):
    caplog.set_level(logging.WARNING, logger="banyan.serve")
    assert check_demo_users(engine) == DEMO_NAMES
    err = capsys.readouterr().err
    assert "DEMO USERS CAN SIGN IN" in err and "admin, rm_sh_01" in err and "and 12 more" in err
    assert "banyan users disable NAME" in err and DEMO_PASSWORD not in err
    assert [r.getMessage() for r in caplog.records] == [
        "banyan serve: 20 demo user(s) sign in with the published demo password: " + ", ".join(DEMO_NAMES)]

    store = demo_people
    store.set_password("admin", "a password nobody published")
    for name in DEMO_NAMES[2:]:
        store.set_active(name, False)
    assert check_demo_users(engine) == ["rm_sh_01"]                  # the hash is checked, not the name
    store.set_password("rm_sh_01", "another unpublished one")
    capsys.readouterr()
    caplog.clear()
    assert check_demo_users(engine) == []
    assert capsys.readouterr().err == "" and not caplog.records


def test_the_check_runs_beside_the_starting_server(engine, demo_people, capsys):
    thread = warn_demo_users(engine)
    assert isinstance(thread, threading.Thread) and thread.daemon and thread.name == DEMO_CHECK_THREAD
    thread.join(timeout=60)
    assert "DEMO USERS CAN SIGN IN" in capsys.readouterr().err


def test_banyan_serve_starts_the_check(db_url, engine, demo_people, monkeypatch):
    import uvicorn
    ran = {}

    def fake_run(app, **kwargs):          # no server: wait for the check that serve started, then return
        for t in threading.enumerate():
            if t.name == DEMO_CHECK_THREAD:
                t.join(timeout=60)
        ran.update(kwargs)
    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setenv("BANYAN_SECRET_KEY", "x" * 40)
    r = CliRunner().invoke(main, ["serve", "--port", "8123"], env={"BANYAN_DATABASE_URL": db_url})
    assert r.exit_code == 0, r.output
    assert ran["port"] == 8123
    assert "DEMO USERS CAN SIGN IN" in r.stderr


def test_no_users_table_no_warning(engine, capsys):
    assert check_demo_users(engine) == []
    assert capsys.readouterr().err == ""



def test_the_relationship_managers_the_demo_names_are_people_with_names(db_url, tmp_path, monkeypatch):
    """Every relationship manager a demo group or company names is in the people directory with a
    name, so a 360° page shows 段明静 rather than rm_bj_01; the staff get no roles (no task finds
    someone who cannot sign in), and the sign-in people keep their own names."""
    import sqlalchemy as sa

    from runtime.auth.people import PeopleDirectory
    from runtime.auth.tables import role_holders

    from .demo_db import demo_bank
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine, records = demo_bank(db_url, scale=0.01, people=True)
    try:
        with engine.connect() as conn:
            named = set(conn.exec_driver_sql("SELECT relationship_manager FROM e_group UNION "
                                             "SELECT relationship_manager FROM e_company").scalars()) - {None}
            with_roles = set(conn.execute(sa.select(role_holders.c.user_name)).scalars())
        shown = PeopleDirectory(engine).display_names(named)
        assert len(named) > 5 and all(shown[n] != n for n in named), shown
        assert shown.get("rm_sh_01", "陈思远") == "陈思远"
        assert with_roles <= set(DEMO_NAMES)
    finally:
        engine.dispose()
