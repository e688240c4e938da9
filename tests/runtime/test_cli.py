"""The runtime's CLI verbs: exit codes, messages, no tracebacks."""
from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from runtime.cli.main import main

from .bundles import GROUP as PLAIN_GROUP
from .records_bundle import COMPANY, GROUP


def write_bundle(root, files):
    root.mkdir(exist_ok=True)
    for name, text in files:
        (root / name).write_text(text, encoding="utf-8")
    return str(root)


def run(db_url, *args):
    return CliRunner().invoke(main, list(args), env={"BANYAN_DATABASE_URL": db_url, "BANYAN_ACTOR": "tester"})


def test_plan_deploy_history_and_records(db_url, tmp_path):
    path = write_bundle(tmp_path / "b1", [GROUP, COMPANY])
    r = run(db_url, "plan", path)
    assert r.exit_code == 1 and "create table e_company" in r.output
    r = run(db_url, "deploy", path, "-m", "first")
    assert r.exit_code == 0 and "deployed v1" in r.output
    assert run(db_url, "plan", path).exit_code == 0
    r = run(db_url, "history")
    assert "v1" in r.output and "tester" in r.output and "first" in r.output
    r = run(db_url, "records", "create", "group", "--set", "code=G1", "--set", "name=one")
    assert r.exit_code == 0, r.output
    r = run(db_url, "records", "create", "company", "--json", '{"code": "C100", "name": "A", "capital": "x"}')
    assert r.exit_code == 1 and "capital" in r.output and "Traceback" not in r.output
    csv = tmp_path / "c.csv"
    csv.write_text("code,name,group\nC100,A,G1\nC200,B,G9\n", encoding="utf-8")
    r = run(db_url, "import", "company", str(csv))
    assert r.exit_code == 1 and "line 3 · group: " in r.output and "“G9”" in r.output
    csv.write_text("code,name,group\nC100,A,G1\nC200,B,G1\n", encoding="utf-8")
    assert run(db_url, "import", "company", str(csv)).exit_code == 0
    r = run(db_url, "records", "get", "group", "G1")
    assert '"member_count": 2' in r.output
    out = tmp_path / "out.xlsx"
    assert run(db_url, "export", "company", str(out)).exit_code == 0 and out.exists()
    r = run(db_url, "audit", "verify")
    assert r.exit_code == 0 and "intact" in r.output


def test_refused_deploy_and_tampered_audit(db_url, tmp_path):
    v1 = write_bundle(tmp_path / "v1", [PLAIN_GROUP])
    assert run(db_url, "deploy", v1).exit_code == 0
    assert run(db_url, "records", "create", "group", "--set", "code=G1", "--set", "name=one").exit_code == 0
    v2 = write_bundle(tmp_path / "v2", [(PLAIN_GROUP[0], PLAIN_GROUP[1].replace(
        "    - {name: name, type: string, label: {en: Name}, required: true}\n", ""))])
    r = run(db_url, "deploy", v2)
    assert r.exit_code == 1 and "would lose group.name: 1 value" in r.output and "nothing was changed" in r.output
    r = run(db_url, "deploy", v2, "--allow-data-loss")
    assert r.exit_code == 0 and "deployed v2" in r.output
    r = run(db_url, "diff", "1", "2")
    assert r.exit_code == 1 and "drop column name" in r.output
    r = run(db_url, "rollback", "1")
    assert r.exit_code == 0 and "deployed v3" in r.output
    eng = sa.create_engine(db_url)
    with eng.begin() as conn:
        conn.execute(sa.text("UPDATE banyan_audit SET after = '{}' WHERE seq = 2"))
    eng.dispose()
    r = run(db_url, "audit", "verify")
    assert r.exit_code == 1 and "entry 2" in r.output and "edited" in r.output


def test_bad_path_and_unknown_env_are_clear_errors(db_url, tmp_path):
    r = run(db_url, "deploy", str(tmp_path / "nope"))
    assert r.exit_code == 2 and "nothing was changed" in r.output
    r = run(db_url, "history", "--env", "prod")
    assert r.exit_code == 2 and "unknown environment `prod`" in r.output
    r = run(db_url, "records", "list", "company")
    assert r.exit_code == 2 and "nothing is deployed" in r.output


def test_promote_between_environments(tmp_path, monkeypatch):
    test_db, prod_db = tmp_path / "test.db", tmp_path / "prod.db"
    (tmp_path / "banyan.toml").write_text(
        f'[environments]\ntest = "sqlite:///{test_db}"\nprod = "sqlite:///{prod_db}"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    path = write_bundle(tmp_path / "b", [GROUP, COMPANY])
    runner = CliRunner()
    assert runner.invoke(main, ["deploy", path, "--env", "test"]).exit_code == 0
    r = runner.invoke(main, ["promote", "--from", "test", "--to", "prod"])
    assert r.exit_code == 0 and "deployed v1" in r.output
    hashes = []
    for db in (test_db, prod_db):
        eng = sa.create_engine(f"sqlite:///{db}")
        with eng.connect() as conn:
            hashes.append(conn.execute(sa.text("SELECT hash, action FROM banyan_deployments")).one())
        eng.dispose()
    assert hashes[0][0] == hashes[1][0] and hashes[1][1] == "promote"
