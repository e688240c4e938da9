"""Deploys: tables from entities, additive changes, refused data loss, atomicity, rollback, diff."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from runtime.deploy.deployments import DataLossRefused, DeployError, DeploymentRegistry
from runtime.deploy.releases import load_bundle

from .bundles import COMPANY, COMPANY_FIELDS, GROUP, entity, release

V1 = (GROUP, COMPANY)


def columns(engine, table):
    return {c["name"]: c for c in sa.inspect(engine).get_columns(table)}


def test_first_deploy_creates_typed_tables(engine):
    reg = DeploymentRegistry(engine)
    out = reg.deploy(release(*V1), author="alice", message="first")
    assert out.applied and out.version == 1
    cols = columns(engine, "e_company")
    assert set(cols) >= {"id", "version", "created_at", "updated_at", "code", "capital", "group", "size"}
    assert isinstance(cols["capital"]["type"], sa.Numeric) and cols["capital"]["type"].scale == 2
    assert cols["code"]["type"].length == 20
    fks = sa.inspect(engine).get_foreign_keys("e_company")
    assert [(f["constrained_columns"], f["referred_table"]) for f in fks] == [(["group"], "e_group")]
    uniques = sa.inspect(engine).get_unique_constraints("e_company")
    indexes = sa.inspect(engine).get_indexes("e_company")
    assert any(u["column_names"] == ["code"] for u in uniques) or any(
        i["column_names"] == ["code"] and i["unique"] for i in indexes)
    assert any(i["column_names"] == ["name"] for i in indexes)
    head = reg.current()
    assert head.author == "alice" and head.message == "first" and head.hash == release(*V1).hash


def test_same_bundle_twice_is_a_no_op(engine):
    reg = DeploymentRegistry(engine)
    reg.deploy(release(*V1))
    again = reg.deploy(release(*V1))
    assert not again.applied and again.version == 1 and again.plan.same
    assert len(reg.history()) == 1


def test_enum_check_is_enforced_by_the_database(engine):
    reg = DeploymentRegistry(engine)
    reg.deploy(release(*V1))
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO e_company (id, version, created_at, updated_at, code, name, size) "
                                 "VALUES (1, 1, '2024-01-01', '2024-01-01', 'C1', 'n', 'huge')"))


def _insert_company(engine, id_, code, **values):
    cols = {"id": id_, "version": 1, "created_at": "2024-01-01 00:00:00", "updated_at": "2024-01-01 00:00:00",
            "code": code, "name": f"company {code}", **values}
    names = ", ".join(f'"{k}"' for k in cols)
    with engine.begin() as conn:
        conn.execute(sa.text(f"INSERT INTO e_company ({names}) VALUES ({', '.join(':' + k for k in cols)})"), cols)


def test_additive_changes_apply_and_keep_rows(engine):
    reg = DeploymentRegistry(engine)
    reg.deploy(release(*V1))
    _insert_company(engine, 1, "C1", size="large", capital=12.5)
    widened = COMPANY_FIELDS.replace("max_length: 100}", "max_length: 200}").replace(
        "values: [large, medium, small]", "values: [large, medium, small, micro]")
    v2 = release(GROUP, entity("company", widened + "    - {name: website, type: string, label: {en: Web}}\n"))
    plan = reg.plan(v2)
    assert not plan.losses and {c.action for c in plan.changes} == {"add_column", "alter_column"}
    out = reg.deploy(v2)
    assert out.applied and out.version == 2
    _insert_company(engine, 2, "C2", size="micro", website="https://x")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT code, size, capital, website FROM e_company ORDER BY id")).all()
    assert [(r[0], r[1], float(r[2]) if r[2] is not None else None, r[3]) for r in rows] == [
        ("C1", "large", 12.5, None), ("C2", "micro", None, "https://x")]


def test_removing_an_unused_enum_value_needs_no_flag_but_a_used_one_does(engine):
    reg = DeploymentRegistry(engine)
    reg.deploy(release(*V1))
    _insert_company(engine, 1, "C1", size="large")
    drop_small = release(GROUP, entity("company", COMPANY_FIELDS.replace("[large, medium, small]", "[large, medium]")))
    assert not reg.plan(drop_small).losses
    drop_large = release(GROUP, entity("company", COMPANY_FIELDS.replace("[large, medium, small]", "[medium, small]")))
    plan = reg.plan(drop_large)
    assert [c.loss for c in plan.losses] == ["company.size: 1 record hold a removed value (set to null)"]
    with pytest.raises(DataLossRefused):
        reg.deploy(drop_large)
    reg.deploy(drop_large, allow_data_loss=["company.size"])
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT size FROM e_company")).scalar() is None


def test_unique_on_duplicates_is_a_conflict_even_with_the_flag(engine):
    reg = DeploymentRegistry(engine)
    reg.deploy(release(*V1))
    _insert_company(engine, 1, "C1", size="large")
    _insert_company(engine, 2, "C2", size="large", name="same")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE e_company SET name = 'same'"))
    v2 = release(GROUP, entity("company", COMPANY_FIELDS.replace("index: true, max_length: 100",
                                                                  "unique: true, max_length: 100")))
    with pytest.raises(DeployError, match="appear more than once"):
        reg.deploy(v2, allow_data_loss=True)
    assert reg.current().version == 1


def test_narrowing_a_string_is_a_loss(engine):
    reg = DeploymentRegistry(engine)
    reg.deploy(release(*V1))
    _insert_company(engine, 1, "C1", name="a long company name")
    v2 = release(GROUP, entity("company", COMPANY_FIELDS.replace("max_length: 100}", "max_length: 5}")))
    plan = reg.plan(v2)
    assert [c.name for c in plan.losses] == ["company.name"]
    reg.deploy(v2, allow_data_loss=True)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name FROM e_company")).scalar() == "a lon"


def test_dropping_an_entity_table(engine):
    reg = DeploymentRegistry(engine)
    reg.deploy(release(*V1, entity("branch", "- {name: code, type: string, label: {en: c}, required: true, unique: true}")))
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO e_branch (id, version, created_at, updated_at, code) "
                             "VALUES (1, 1, '2024-01-01', '2024-01-01', 'B1')"))
    plan = reg.plan(release(*V1))
    assert [c.loss for c in plan.losses] == ["table e_branch and its 1 record"]
    assert plan.kinds_removed == [("Entity", "branch")]
    reg.deploy(release(*V1), allow_data_loss=True)
    assert "e_branch" not in sa.inspect(engine).get_table_names()


def test_stored_release_recompiles_to_the_same_hash(engine):
    reg = DeploymentRegistry(engine)
    reg.deploy(release(*V1))
    live = reg.current()
    bundle = load_bundle(live.release)
    assert bundle.hash == live.hash and set(bundle.entities) == {"company", "group"}


def _snapshot(engine):
    insp = sa.inspect(engine)
    tables = sorted(t for t in insp.get_table_names() if t.startswith(("e_", "banyan_")))
    out = {}
    with engine.connect() as conn:
        for t in tables:
            cols = sorted((c["name"], str(c["type"])) for c in sa.inspect(engine).get_columns(t))
            rows = sorted(map(tuple, conn.execute(sa.text(f'SELECT * FROM "{t}"')).all()), key=repr)
            out[t] = (cols, rows)
    return out


def test_a_deploy_failing_half_way_leaves_the_database_as_before(engine):
    reg = DeploymentRegistry(engine)
    reg.deploy(release(*V1))
    _insert_company(engine, 1, "C1", size="large")
    before = _snapshot(engine)
    v2 = release(entity("group", """
        - {name: code, type: string, label: {en: Code}, required: true, unique: true, max_length: 20}
        - {name: name, type: string, label: {en: Name}, required: true}
        - {name: region, type: string, label: {en: Region}}
    """), entity("company", COMPANY_FIELDS.replace("[large, medium, small]", "[large, small]")),
        entity("branch", "- {name: code, type: string, label: {en: c}, required: true, unique: true}"))
    steps = []

    def fail_on_third(msg):
        steps.append(msg)
        if len(steps) == 3:
            raise RuntimeError("injected failure")

    with pytest.raises(RuntimeError, match="injected"):
        reg.deploy(v2, on_step=fail_on_third)
    assert len(steps) == 3
    assert _snapshot(engine) == before
    assert reg.deploy(v2).applied         # and the same deploy works when nothing fails
