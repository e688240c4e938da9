"""Deploys that survive an upgrade: a deployment stores the authors' files as written, each
process compiles a stored release once, and a document a newer Banyan cannot compile (or reads
differently) is unavailable — with what names it — instead of the whole runtime stopping.

A newer Banyan is simulated by rewriting a stored file in the deployments table and dropping the
process's compiled releases, as a fresh process after an upgrade would see them."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from fastapi.testclient import TestClient

from dsl.compiler import compile_path
from examples.demo_bank.users import DEMO_PASSWORD, seed_demo_users
from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.cli.main import main
from runtime.deploy import live as live_module
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.live import UnknownEntity, live_status, load_live
from runtime.deploy.releases import encode_release, release_of
from runtime.flows.service import FlowService
from runtime.flows.store import FlowError
from runtime.http.app import create_app
from runtime.records.errors import ReadOnly
from runtime.records.service import Records
from runtime.storage.tables import deployments
from runtime.web.app import create_app as create_web_app
from tests.runtime.bundles import COMPANY_FIELDS, GROUP, entity
from tests.runtime.flow_bank import make_bank
from tests.web.conftest import signed_in

HEADER = "# 集团客户 — kept as the authors wrote it\n"
BRANCH = entity("branch", "- {name: code, type: string, label: {en: Code}, required: true, unique: true}")


def write_bundle(root, files) -> None:
    for name, text in files:
        path = root / "configs" / "entities" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(HEADER + text, encoding="utf-8")


@pytest.fixture
def deployed(engine, tmp_path, monkeypatch):
    """group, company (refers to group) and branch, compiled from files under ./configs and deployed."""
    monkeypatch.chdir(tmp_path)
    write_bundle(tmp_path, [GROUP, entity("company", COMPANY_FIELDS), BRANCH])
    result = compile_path("configs")
    assert result.ok
    reg = DeploymentRegistry(engine)
    reg.deploy(release_of(result.bundle), author="test")
    return reg


def stored(engine, version: int = 1) -> dict:
    with engine.connect() as conn:
        return json.loads(conn.execute(sa.select(deployments.c.sources).where(deployments.c.version == version))
                          .scalar_one())


def rewrite_stored_file(engine, monkeypatch, path: str, change, version: int = 1) -> None:
    """What a newer Banyan meets: the stored file reads differently now. The process starts afresh."""
    data = stored(engine, version)
    data["files"][path] = change(data["files"][path])
    with engine.begin() as conn:
        conn.execute(deployments.update().where(deployments.c.version == version)
                     .values(sources=json.dumps(data, ensure_ascii=False)))
    monkeypatch.setattr(live_module, "_BUNDLES", {})
    monkeypatch.setattr(live_module, "_VERSIONS", {})


def break_group(text: str) -> str:            # a type this Banyan no longer knows
    return text.replace("type: string, label: {en: Code}", "type: strng, label: {en: Code}", 1)


# -- the authors' files ------------------------------------------------------------------------
def test_a_deployment_stores_the_files_as_written_and_runs_from_them(deployed, engine, tmp_path):
    data = stored(engine)
    assert data["format"] == 2
    assert sorted(data["files"]) == ["configs/entities/branch.yaml", "configs/entities/company.yaml",
                                     "configs/entities/group.yaml"]
    assert data["files"]["configs/entities/group.yaml"] == (tmp_path / "configs/entities/group.yaml").read_text("utf-8")
    live = load_live(engine)
    company = live.entity("company")
    assert (company.meta.file, company.meta.span.line) == ("configs/entities/company.yaml", 5)   # `name:`, below the header
    assert live.unavailable == {} and live.hash == deployed.current().hash


def test_the_hash_is_the_documents_and_a_changed_text_is_stored_again(deployed, engine, tmp_path):
    first = deployed.current()
    same = compile_path("configs").bundle
    assert not deployed.deploy(release_of(same)).applied                   # same files: nothing to do
    (tmp_path / "configs/entities/branch.yaml").write_text(
        "# moved down a line\n" + (tmp_path / "configs/entities/branch.yaml").read_text("utf-8"), encoding="utf-8")
    moved = deployed.plan(release_of(compile_path("configs").bundle))
    assert moved.files_changed and not moved.same and moved.to_hash == first.hash and not moved.kinds_changed
    out = deployed.deploy(release_of(compile_path("configs").bundle))
    assert out.applied and deployed.current().hash == first.hash
    assert stored(engine, 2)["files"]["configs/entities/branch.yaml"].startswith("# moved down a line")
    back = deployed.rollback(1)                                             # rollback: v1's stored files
    assert back.applied and stored(engine, 3)["files"] == stored(engine, 1)["files"]


def test_promote_deploys_the_stored_files_of_another_environment(deployed, engine, tmp_path):
    other = DeploymentRegistry(sa.create_engine(f"sqlite:///{tmp_path / 'prod.db'}"))
    out = other.promote(deployed, "test")
    assert out.applied and stored(other.engine)["files"] == stored(engine)["files"]
    assert load_live(other.engine).entity_names == ["branch", "company", "group"]


def test_a_deployment_stored_before_files_still_loads_and_a_redeploy_stores_the_files(deployed, engine):
    current = deployed.current()
    legacy = [[k, n, data] for (k, n), data in sorted(compile_path("configs").bundle.sources.items())]
    with engine.begin() as conn:
        conn.execute(deployments.update().values(sources=json.dumps(legacy, ensure_ascii=False)))
    live = load_live(engine)
    assert live.unavailable == {} and live.entity("group").meta.file == "Entity/group.yaml"
    out = deployed.deploy(release_of(compile_path("configs").bundle))
    assert out.applied and out.plan.files_changed and deployed.current().hash == current.hash
    assert load_live(engine).entity("group").meta.file == "configs/entities/group.yaml"


# -- compiled once per process -----------------------------------------------------------------
def test_each_process_compiles_a_stored_release_once(deployed, engine, monkeypatch):
    monkeypatch.setattr(live_module, "_BUNDLES", {})
    monkeypatch.setattr(live_module, "_VERSIONS", {})
    calls = []
    real = live_module.load_bundle
    monkeypatch.setattr(live_module, "load_bundle", lambda release: calls.append(release.hash) or real(release))
    records = Records(engine)
    for _ in range(3):
        records.refresh()
        records.query("company")
        live_status(engine)
        load_live(engine)
    assert len(calls) == 1


# -- what a newer Banyan cannot compile --------------------------------------------------------
def test_a_document_that_no_longer_compiles_and_what_refers_to_it_are_unavailable(deployed, engine, monkeypatch):
    records = Records(engine)
    records.create("group", {"code": "G1", "name": "Acme"}, actor="test")
    records.create("company", {"code": "C1", "name": "Acme Steel", "group": "G1"}, actor="test")
    rewrite_stored_file(engine, monkeypatch, "configs/entities/group.yaml", break_group)

    live = load_live(engine)                        # no ReleaseError: the rest runs
    assert set(live.unavailable) == {"Entity/group", "Entity/company"}
    assert live.unavailable["Entity/group"].startswith("configs/entities/group.yaml:")
    assert "strng" in live.unavailable["Entity/group"]
    assert live.unavailable["Entity/company"] == "it refers to Entity/group, which is unavailable"

    records = Records(engine)
    assert records.query("company").items[0]["group"] == "G1"              # reads work
    with pytest.raises(ReadOnly, match="company records are read-only: the entity is unavailable"):
        records.create("company", {"code": "C2", "name": "Acme Steel 2"}, actor="test")
    with pytest.raises(ReadOnly):
        records.update("company", 1, {"name": "renamed"}, actor="test")
    with pytest.raises(ReadOnly):
        records.delete("company", 1, actor="test")
    with pytest.raises(UnknownEntity, match="entity `group` is unavailable in the deployed bundle: configs/"):
        records.query("group")
    assert records.create("branch", {"code": "B1"}, actor="test")["code"] == "B1"   # the rest runs

    assert live_module.runnable_documents(live.bundle, "Entity").keys() == {"branch"}


def test_a_document_read_differently_is_unavailable(deployed, engine, monkeypatch):
    rewrite_stored_file(engine, monkeypatch, "configs/entities/branch.yaml",
                        lambda t: t.replace("label: {en: Code}", "label: {en: Branch code}"))
    assert load_live(engine).unavailable == {
        "Entity/branch": "configs/entities/branch.yaml: this Banyan reads the document differently "
                         "than the one that deployed it"}


def test_status_health_and_a_redeploy_that_clears_it(deployed, engine, db_url, monkeypatch):
    rewrite_stored_file(engine, monkeypatch, "configs/entities/group.yaml", break_group)
    monkeypatch.setenv("BANYAN_DATABASE_URL", db_url)
    run = CliRunner().invoke(main, ["status"])
    assert run.exit_code == 1, run.output
    assert "2 document(s) unavailable" in run.output and "Entity/group" in run.output and "strng" in run.output
    as_json = json.loads(CliRunner().invoke(main, ["status", "--format", "json"]).output)
    assert not as_json["healthy"] and set(as_json["unavailable"]) == {"Entity/group", "Entity/company"}

    health = TestClient(create_app(engine)).get("/health").json()
    assert health["status"] == "degraded" and set(health["unavailable"]) == {"Entity/group", "Entity/company"}

    out = deployed.deploy(release_of(compile_path("configs").bundle), author="ops")   # from the YAML again
    assert out.applied and out.plan.files_changed
    assert live_status(engine).unavailable == {} and load_live(engine).unavailable == {}
    run = CliRunner().invoke(main, ["status"])
    assert run.exit_code == 0 and "every document runs" in run.output
    assert TestClient(create_app(engine)).get("/health").json()["status"] == "ok"


# -- flows ---------------------------------------------------------------------------------------
def _start(flows: FlowService) -> dict:
    return flows.start("group_credit_approval", actor="rm", subject="G0001",
                       form={"amount": "3亿", "term_months": 12, "purpose": "working capital",
                             "products": ["working_capital"], "guarantee_mode": "credit"})


def test_an_unavailable_flow_is_not_started_and_its_instances_pause(engine, monkeypatch):
    flows = make_bank(engine)
    try:
        running = _start(flows)
    except FlowError as exc:              # the form the shipped flow wants, named in the refusal
        pytest.fail(f"could not start the shipped flow: {exc.message}")
    rewrite_stored_file(engine, monkeypatch, "configs/flows/group_credit_approval.yaml",
                        lambda t: t.replace("type: task", "type: tsak", 1))
    flows = FlowService(engine, clock=flows.clock)
    why = live_status(engine).unavailable["Flow/group_credit_approval"]
    assert why.startswith("configs/flows/group_credit_approval.yaml:") and "tsak" in why

    with pytest.raises(FlowError) as refused:
        _start(flows)
    assert refused.value.code == "flow_unavailable" and refused.value.status == 409
    assert "cannot be started" in refused.value.message

    view = flows.instance(running["id"])
    assert view["paused"] == why                                      # the reason is shown
    task = next(t["id"] for t in view["tasks"])
    with pytest.raises(FlowError) as paused:
        flows.act(running["id"], "claim", actor="officer", task=task)
    assert paused.value.code == "paused" and paused.value.message.startswith("paused: flow `group_credit_approval`")
    assert flows.instance(running["id"])["version"] == running["version"]      # nothing changed


def test_the_release_json_round_trips(deployed):
    release = deployed.current().release
    assert encode_release(release) == json.dumps(json.loads(encode_release(release)), ensure_ascii=False,
                                                 sort_keys=True)


def test_the_deployments_page_lists_what_is_unavailable(engine, monkeypatch, tmp_path):
    make_bank(engine)
    seed_demo_users(UserStore(engine), OrgTree(load_live(engine).bundle))
    rewrite_stored_file(engine, monkeypatch, "configs/flows/group_credit_approval.yaml",
                        lambda t: t.replace("type: task", "type: tsak", 1))
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    page = signed_in(create_web_app(engine), "admin", DEMO_PASSWORD).get("/ui/deployments?lang=en")
    assert page.status_code == 200
    assert "Flow/group_credit_approval" in page.text and "tsak" in page.text
    assert "Fix their YAML and redeploy" in page.text or "修正对应 YAML" in page.text
