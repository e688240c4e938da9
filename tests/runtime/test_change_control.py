"""Change control (issue 17): a deploy, rollback or promote to a protected environment waits for a
second person's approval in the shipped `config_change_approval` flow, then deploys exactly the
approved bundle, once — on SQLite and PostgreSQL."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from dsl.compiler import compile_path
from runtime.audit.log import verify
from runtime.change_control.service import FLOW, ChangeControl
from runtime.deploy.change_requests import ChangeError, change_requests
from runtime.deploy.deployments import DeploymentRegistry, ProtectedEnvironment, StaleChange
from runtime.deploy.releases import release_of
from runtime.flows.directory import put_people
from runtime.flows.service import FlowService
from runtime.flows.store import FlowError
from runtime.storage.db import writing
from runtime.storage.tables import audit_log

from .flow_bank import Clock

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SHIPPED = ["flows/config_change_approval.yaml", "forms/config_change.yaml", "roles/change_approver.yaml",
           "roles/admin.yaml", "roles/auditor.yaml"]
ENTITY = """apiVersion: banyan/v1
kind: Entity
metadata: {{name: branch_note, label: {{zh: 备注, en: Note}}}}
spec:
  key: code
  fields:
    - {{name: code, type: string, label: {{zh: 编号, en: Code}}, required: true, unique: true}}
{extra}"""


def bundle(tmp_path: Path, name: str, extra: str = ""):
    """The shipped change-control documents and one entity (with `extra` fields)."""
    root = tmp_path / name / "configs"
    for rel in SHIPPED:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CONFIGS / rel, root / rel)
    (root / "entities").mkdir(exist_ok=True)
    (root / "entities" / "branch_note.yaml").write_text(ENTITY.format(extra=extra), encoding="utf-8")
    result = compile_path(str(root))
    assert result.ok, result.diagnostics.sorted()
    return release_of(result.bundle)


NOTE = "    - {name: note, type: text, label: {zh: 内容, en: Note}}\n"
OWNER = "    - {name: owner, type: string, label: {zh: 负责人, en: Owner}}\n"


@pytest.fixture
def prod(engine, tmp_path):
    """A protected environment's database: v1 deployed (with the approval flow), two approvers."""
    DeploymentRegistry(engine).deploy(bundle(tmp_path, "v1"), author="ops", message="first")
    with writing(engine) as conn:
        put_people(conn, [{"name": u} for u in ("maker", "checker", "checker2")],
                   [{"user": u, "role": "change_approver", "org_unit": None} for u in ("maker", "checker", "checker2")])
    return ChangeControl(engine, flows=FlowService(engine, clock=Clock()))


def waiting(prod, release, maker="maker", **kw):
    plan, req = prod.request(release, environment="prod", maker=maker, **kw)
    assert req is not None
    return req


def approve(prod, req, who, action="approve"):
    view = prod.flows.instance(req["instance"], with_timeline=False)
    task = next(t["id"] for t in view["tasks"] if who in (t["assignee"], *t["candidates"]))
    return prod.flows.act(req["instance"], action, actor=who, task=task, comment="looked at the diff")


def test_a_protected_deploy_waits_for_its_approver(prod, engine, tmp_path):
    v2 = bundle(tmp_path, "v2", NOTE)
    req = waiting(prod, v2)
    assert prod.registry.current().version == 1                 # nothing deployed
    assert req["approvers"] == ["checker", "checker2"]          # the maker is kept off the step
    view = prod.flows.instance(req["instance"])
    assert (view["flow"], view["status"], view["initiator"]) == (FLOW, "running", "maker")
    form = view["form"]
    assert form["bundle_hash"] == v2.hash and form["change_request"] == req["id"]
    assert "+ e_branch_note: add column note" in form["summary"]
    assert "+    - {name: note" in form["diff"]                    # the approver sees the diff
    assert prod.settle() == []                                  # nothing to do while it waits
    assert prod.registry.current().version == 1
    assert prod.requests.get(req["id"]).status == "waiting"


def test_the_approval_of_a_second_person_deploys_exactly_the_approved_bundle_once(prod, engine, tmp_path):
    v2 = bundle(tmp_path, "v2", NOTE)
    req = waiting(prod, v2, message="add notes")
    approve(prod, req, "checker")
    assert prod.registry.current().version == 1                 # the worker runs it, not the approval
    done = prod.settle()
    assert [(d["status"], d["version"], d["maker"], d["checker"]) for d in done] == [("deployed", 2, "maker", "checker")]
    live = prod.registry.current()
    assert (live.version, live.hash, live.author) == (2, v2.hash, "maker")
    assert "approved by checker" in live.message and "add notes" in live.message
    assert prod.settle() == [] and prod.registry.current().version == 2     # once
    stored = prod.requests.get(req["id"])
    assert (stored.status, stored.version, stored.checker) == ("deployed", 2, "checker")
    with engine.connect() as conn:
        cols = [c for c in sa.inspect(conn).get_columns("e_branch_note")]
    assert "note" in [c["name"] for c in cols]


def test_a_second_worker_finds_the_request_settled(prod, tmp_path):
    req = waiting(prod, bundle(tmp_path, "v2", NOTE))
    approve(prod, req, "checker")
    assert prod.requests.apply(req["id"], "checker").version == 2
    with pytest.raises(ChangeError) as err:                     # what a late worker meets
        prod.requests.apply(req["id"], "checker")
    assert err.value.code == "settled"
    assert prod.settle() == [] and prod.registry.current().version == 2


def test_the_maker_cannot_approve_their_own_change(prod, tmp_path):
    req = waiting(prod, bundle(tmp_path, "v2", NOTE))
    view = prod.flows.instance(req["instance"], with_timeline=False)
    task = view["tasks"][0]["id"]
    with pytest.raises(FlowError):
        prod.flows.act(req["instance"], "approve", actor="maker", task=task)
    with pytest.raises(ChangeError) as err:                     # and the deploy side refuses it too
        prod.requests.apply(req["id"], "maker")
    assert err.value.code == "self_approval" and "maker-checker" in err.value.message
    assert prod.registry.current().version == 1


def test_a_maker_who_is_the_only_approver_cannot_even_ask(engine, tmp_path):
    DeploymentRegistry(engine).deploy(bundle(tmp_path, "v1"), author="ops")
    with writing(engine) as conn:
        put_people(conn, [{"name": "maker"}], [{"user": "maker", "role": "change_approver", "org_unit": None}])
    control = ChangeControl(engine, flows=FlowService(engine, clock=Clock()))
    with pytest.raises(FlowError):
        control.request(bundle(tmp_path, "v2", NOTE), environment="prod", maker="maker")
    with engine.connect() as conn:                              # nothing half-written
        assert conn.execute(sa.select(sa.func.count()).select_from(change_requests)).scalar() == 0


def test_a_rejected_change_leaves_the_environment_as_it_was(prod, engine, tmp_path):
    req = waiting(prod, bundle(tmp_path, "v2", NOTE))
    approve(prod, req, "checker2", action="reject")
    done = prod.settle()
    assert [(d["status"], d["checker"]) for d in done] == [("rejected", "checker2")]
    assert prod.registry.current().version == 1
    with engine.connect() as conn:
        assert "note" not in [c["name"] for c in sa.inspect(conn).get_columns("e_branch_note")]
    assert prod.requests.get(req["id"]).status == "rejected"


def test_a_change_planned_against_an_older_version_is_refused(prod, tmp_path):
    req = waiting(prod, bundle(tmp_path, "v2", NOTE))
    other = waiting(prod, bundle(tmp_path, "v2b", OWNER), maker="checker2")   # the environment moves on
    approve(prod, other, "checker")
    assert [d["status"] for d in prod.settle([other["id"]])] == ["deployed"]
    approve(prod, req, "checker")
    done = prod.settle()
    assert [d["status"] for d in done] == ["refused"] and "plan it again" in done[0]["reason"]
    assert prod.registry.current().version == 2 and prod.requests.get(req["id"]).status == "refused"
    with pytest.raises(StaleChange):
        prod.registry.deploy(bundle(tmp_path, "v3", NOTE), expect_live=(1, "x"), claim=lambda conn: {})


def test_a_database_under_change_control_refuses_a_straight_deploy_from_any_door(prod, engine, tmp_path):
    """Once a change request exists, the database is the protected environment: a deploy, rollback
    or promote made straight to the registry (a script, `banyan seed`, another URL spelling) is
    refused and changes nothing; only an approved request deploys."""
    v2 = bundle(tmp_path, "v2", NOTE)
    assert prod.registry.protected_as() is None
    waiting(prod, v2)
    assert prod.registry.protected_as() == "prod"
    with engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar()
    other = DeploymentRegistry(engine)
    for attempt in (lambda: other.deploy(v2, author="ops"), lambda: other.rollback(1, author="ops"),
                    lambda: other.promote(DeploymentRegistry(engine), "staging", author="ops")):
        with pytest.raises(ProtectedEnvironment) as err:
            attempt()
        assert err.value.code == "protected" and err.value.status == 403
        assert "`prod`" in err.value.message and "nothing was deployed" in err.value.message
    assert [d.version for d in other.history()] == [1]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_log)).scalar() == before
        assert "note" not in [c["name"] for c in sa.inspect(conn).get_columns("e_branch_note")]


def test_the_first_request_marks_the_database_protected_even_when_it_changes_nothing(prod, engine, tmp_path):
    """A maker's first request to the environment — here one for what is live already, which opens
    no change request — marks the database protected: from then on a straight deploy from any door
    is refused, before any change request exists. The mark is audited once."""
    assert prod.registry.protected_as() is None
    plan, req = prod.request(bundle(tmp_path, "same"), environment="prod", maker="maker")
    assert plan.same and req is None
    assert prod.registry.protected_as() == "prod"
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(change_requests)).scalar() == 0
    with pytest.raises(ProtectedEnvironment):
        DeploymentRegistry(engine).deploy(bundle(tmp_path, "v2", NOTE), author="ops")
    assert [d.version for d in prod.registry.history()] == [1]
    assert prod.registry.protect("prod", "maker") is False                   # once
    waiting(prod, bundle(tmp_path, "v2b", NOTE))                              # requests go on as before
    with engine.connect() as conn:
        marks = conn.execute(sa.select(audit_log.c.actor, audit_log.c.after)
                             .where(audit_log.c.action == "protect")).all()
        assert verify(conn).ok
    assert [(a, json.loads(b)) for a, b in marks] == [("maker", {"environment": "prod"})]


def test_a_tampered_candidate_is_refused(prod, engine, tmp_path):
    req = waiting(prod, bundle(tmp_path, "v2", NOTE))
    stored = prod.requests.get(req["id"], with_release=True).sources_json
    with writing(engine) as conn:                               # someone edits the stored candidate
        conn.execute(change_requests.update().where(change_requests.c.id == req["id"])
                     .values(sources=stored.replace("note", "evil")))
    approve(prod, req, "checker")
    done = prod.settle()
    assert [d["status"] for d in done] == ["refused"] and "not the one approved" in done[0]["reason"]
    assert prod.registry.current().version == 1


def test_rollback_goes_the_same_way(prod, tmp_path):
    prod.registry.deploy(bundle(tmp_path, "v2", OWNER), author="ops")     # v2 (an empty new column)
    old = prod.registry.get(1)
    req = waiting(prod, old.release, action="rollback", based_on="1", allow_data_loss=True)
    approve(prod, req, "checker")
    [done] = prod.settle()
    live = prod.registry.current()
    assert (done["status"], live.version, live.action, live.hash) == ("deployed", 3, "rollback", old.hash)


def test_nothing_to_approve_when_the_bundle_is_live_already(prod, tmp_path):
    plan, req = prod.request(bundle(tmp_path, "v1"), environment="prod", maker="maker")
    assert plan.same and req is None


def test_an_environment_without_the_approval_flow_refuses_clearly(engine, tmp_path):
    control = ChangeControl(engine, flows=FlowService(engine, clock=Clock()))
    with pytest.raises(ChangeError) as err:
        control.request(bundle(tmp_path, "v2", NOTE), environment="prod", maker="maker")
    assert err.value.code == "no_approval_flow" and "first bundle" in err.value.message


def test_the_audit_chain_holds_maker_and_checker_and_verifies(prod, engine, tmp_path):
    req = waiting(prod, bundle(tmp_path, "v2", NOTE))
    approve(prod, req, "checker")
    prod.settle()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(audit_log.c.actor, audit_log.c.action, audit_log.c.after)
                            .order_by(audit_log.c.seq)).all()
        assert verify(conn).ok
    actions = [r.action for r in rows]
    assert "change_request" in actions
    requested = next(json.loads(r.after) for r in rows if r.action == "change_request")
    assert requested["maker"] == "maker" and requested["environment"] == "prod"
    deployed = json.loads(rows[-1].after)
    assert rows[-1].action == "deploy" and rows[-1].actor == "maker"
    assert (deployed["maker"], deployed["checker"], deployed["change_request"]) == ("maker", "checker", req["id"])
    flow_entries = [json.loads(r.after) for r in rows if r.action == "flow"]
    assert any(e.get("command") == "approve" for e in flow_entries)


def test_the_cli_waits_on_a_protected_environment_and_deploys_once_approved(db_url, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from runtime.cli.main import main
    from runtime.storage.db import make_engine
    v1 = bundle(tmp_path, "v1")
    engine = make_engine(db_url)
    try:
        DeploymentRegistry(engine).deploy(v1, author="ops")
        with writing(engine) as conn:
            put_people(conn, [{"name": "checker"}], [{"user": "checker", "role": "change_approver", "org_unit": None}])
        (tmp_path / "banyan.toml").write_text(f'[environments]\nprod = {{url = "{db_url}", protected = true}}\n',
                                              encoding="utf-8")
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("BANYAN_ACTOR", "maker")
        bundle(tmp_path, "v2", NOTE)
        runner = CliRunner()
        r = runner.invoke(main, ["deploy", str(tmp_path / "v2" / "configs"), "--env", "prod", "-m", "notes"])
        assert r.exit_code == 3, r.output
        assert "waiting for approval: request 1" in r.output and "may approve: checker" in r.output
        assert DeploymentRegistry(engine).current().version == 1
        r = runner.invoke(main, ["changes", "show", "1", "--env", "prod"])
        assert r.exit_code == 0 and "+    - {name: note" in r.output
        assert runner.invoke(main, ["changes", "apply", "--env", "prod"]).output.startswith("nothing approved")
        r = runner.invoke(main, ["flow", "act", ChangeControl(engine).requests.get(1).instance_id, "approve",
                                 "--as", "maker", "--env", "prod"])
        assert r.exit_code == 1                                  # not the maker
        instance = ChangeControl(engine).requests.get(1).instance_id
        r = runner.invoke(main, ["flow", "act", instance, "approve", "--as", "checker", "--env", "prod"])
        assert r.exit_code == 0, r.output
        r = runner.invoke(main, ["changes", "apply", "--env", "prod"])
        assert r.exit_code == 0 and "deployed v2" in r.output and "checker checker" in r.output
        live = DeploymentRegistry(engine).current()
        assert (live.version, live.hash) == (2, bundle(tmp_path, "v2b", NOTE).hash)
        r = runner.invoke(main, ["rollback", "1", "--env", "prod", "--allow-data-loss"])
        assert r.exit_code == 3 and "request 2" in r.output
        assert DeploymentRegistry(engine).current().version == 2
        bundle(tmp_path, "v3", NOTE + OWNER)                      # the protected URL without --env: the same
        r = runner.invoke(main, ["deploy", str(tmp_path / "v3" / "configs")], env={"BANYAN_DATABASE_URL": db_url})
        assert r.exit_code == 3 and "`prod` is protected" in r.output and "request 3" in r.output
        other = respelled(db_url, tmp_path)                      # the same database spelled otherwise
        r = runner.invoke(main, ["deploy", str(tmp_path / "v3" / "configs")], env={"BANYAN_DATABASE_URL": other})
        assert r.exit_code == 3 and "`prod` is protected" in r.output and "request 4" in r.output
        (tmp_path / "banyan.toml").unlink()                       # the config file gone: the database remembers
        r = runner.invoke(main, ["deploy", str(tmp_path / "v3" / "configs")], env={"BANYAN_DATABASE_URL": db_url})
        assert r.exit_code == 3 and "`prod` is protected" in r.output and "request 5" in r.output
        assert DeploymentRegistry(engine).current().version == 2
    finally:
        engine.dispose()


def respelled(url: str, tmp_path: Path) -> str:
    """`url` written another way: a relative SQLite path; PostgreSQL by another driver name and host."""
    if url.startswith("sqlite"):
        return "sqlite:///" + str(Path(url.split("///", 1)[1]).relative_to(tmp_path))
    return url.replace("postgresql+psycopg://", "postgresql://").replace("127.0.0.1:5432", "LOCALHOST")


def test_two_spellings_of_one_database_are_the_same_database():
    from runtime.storage.db import same_database
    assert same_database("postgresql+psycopg://postgres@127.0.0.1:5432/prod", "postgresql://LocalHost/prod")
    assert same_database("sqlite:///banyan.db", f"sqlite:///{Path('banyan.db').resolve()}")
    assert not same_database("postgresql://db1/prod", "postgresql://db1/test")
    assert not same_database("postgresql://db1:5433/prod", "postgresql://db1/prod")
    assert not same_database("postgresql://h/test?options=-csearch_path%3Da", "postgresql://h/test?options=-csearch_path%3Db")
    assert not same_database("sqlite:///a.db", "sqlite:///b.db")


class Crash(Exception):
    pass


def test_a_crash_in_the_deploy_leaves_the_request_waiting_and_the_next_pass_deploys_it(prod, engine, tmp_path):
    req = waiting(prod, bundle(tmp_path, "v2", NOTE))
    approve(prod, req, "checker")

    def crash(step: str) -> None:
        if step.startswith("recorded deployment"):         # the last moment inside the transaction
            raise Crash(step)
    with pytest.raises(Crash):
        prod.settle(on_step=crash)
    assert prod.registry.current().version == 1 and prod.requests.get(req["id"]).status == "waiting"
    with engine.connect() as conn:
        assert "note" not in [c["name"] for c in sa.inspect(conn).get_columns("e_branch_note")]
    [done] = prod.settle()
    assert (done["status"], done["version"]) == ("deployed", 2)


def test_workers_settling_at_once_deploy_the_change_once(prod, engine, db_url, tmp_path):
    import threading

    from runtime.storage.db import make_engine
    req = waiting(prod, bundle(tmp_path, "v2", NOTE))
    approve(prod, req, "checker")
    engines = [make_engine(db_url) for _ in range(3)]
    controls = [ChangeControl(e, flows=FlowService(e, clock=Clock())) for e in engines]
    barrier, results, errors = threading.Barrier(len(controls)), [], []

    def run(control):
        barrier.wait()
        try:
            results.extend(control.settle())
        except Exception as exc:  # noqa: BLE001 - kept to be shown by the assertion
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(c,)) for c in controls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    assert errors == []                                  # the late workers find it taken, quietly
    results.extend(prod.settle())                        # and a later pass has nothing to do
    assert [r["status"] for r in results] == ["deployed"], results
    assert [d.version for d in prod.registry.history()] == [1, 2]
    with engine.connect() as conn:
        assert verify(conn).ok
