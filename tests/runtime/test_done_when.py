"""The issue's done-when scenario, and the audit chain catching tampering."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from runtime.audit import log as audit
from runtime.deploy.deployments import DataLossRefused, DeploymentRegistry
from runtime.deploy.live import load_live
from runtime.deploy.releases import release_of
from runtime.records.errors import InvalidRecord
from runtime.records.service import Records

from .bundles import bundle
from .records_bundle import COMPANY, FILES, GROUP, deploy


def v2_files():
    # v2: company gains `website` and loses `employees`
    name, text = COMPANY
    text = text.replace("    - {name: employees, type: integer, label: {en: Employees}, min: 1, max: 100000}\n",
                        "    - {name: website, type: string, label: {en: Website}}\n")
    return (GROUP, (name, text))


def column_names(engine, table):
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def test_deploy_seed_refuse_allow_rollback(engine):
    recs = deploy(engine, *FILES)
    reg = DeploymentRegistry(engine)
    recs.bulk_create("group", [{"code": "G1", "name": "one"}], actor="seed")
    recs.bulk_create("company", [{"code": f"C{i}00", "name": f"c{i}", "group": "G1", "employees": i}
                                 for i in range(1, 6)], actor="seed")
    v2 = release_of(bundle(*v2_files()))

    plan = reg.plan(v2)
    assert [(c.action, c.name) for c in plan.changes] == [("add_column", "company.website"),
                                                          ("drop_column", "company.employees")]
    assert [c.loss for c in plan.losses] == ["company.employees: 5 values"]
    assert plan.kinds_changed == [("Entity", "company")]

    with pytest.raises(DataLossRefused, match="company.employees: 5 values"):
        reg.deploy(v2)
    assert reg.current().version == 1
    assert "employees" in column_names(engine, "e_company") and "website" not in column_names(engine, "e_company")

    out = reg.deploy(v2, allow_data_loss=True, message="drop employees")
    assert out.version == 2
    cols = column_names(engine, "e_company")
    assert "website" in cols and "employees" not in cols
    live = load_live(engine)
    assert live.version == 2 and live.entity("company").field("website") is not None
    recs2 = Records(engine)
    assert recs2.find("company", "C300")["name"] == "c3"      # the rows survived the change
    with pytest.raises(InvalidRecord):
        recs2.create("company", {"code": "C900", "name": "x", "employees": 3}, actor="a")

    back = reg.rollback(1)
    assert back.version == 3 and back.plan.to_hash == reg.get(1).hash
    cols = column_names(engine, "e_company")
    assert "employees" in cols and "website" not in cols
    assert [d.action for d in reg.history()] == ["deploy", "deploy", "rollback"]
    assert Records(engine).find("company", "C300")["employees"] is None   # the model is back; lost data is lost


def test_diff_between_versions(engine):
    deploy(engine, *FILES)
    reg = DeploymentRegistry(engine)
    reg.deploy(release_of(bundle(*v2_files())))
    d = reg.diff(1, 2)
    assert [(c.action, c.name) for c in d.changes] == [("add_column", "company.website"),
                                                       ("drop_column", "company.employees")]


def test_audit_verify_catches_an_edited_and_a_deleted_row(engine):
    recs = deploy(engine, *FILES)
    g = recs.create("group", {"code": "G1", "name": "one"}, actor="alice")
    recs.update("group", g["id"], {"name": "uno"}, actor="bob")
    recs.create("group", {"code": "G2", "name": "two"}, actor="carol")
    with engine.connect() as conn:
        ok = audit.verify(conn)
        entries = conn.execute(sa.text("SELECT seq, actor, action FROM banyan_audit ORDER BY seq")).all()
    assert ok.ok and ok.checked == 4
    assert [tuple(e)[1:] for e in entries] == [("test", "deploy"), ("alice", "create"), ("bob", "update"),
                                               ("carol", "create")]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE banyan_audit SET actor = 'mallory' WHERE seq = 3"))
    with engine.connect() as conn:
        res = audit.verify(conn)
    assert not res.ok and res.problems == ["entry 3 (update group 1) was edited: its contents do not match its hash"]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE banyan_audit SET actor = 'bob' WHERE seq = 3"))
        conn.execute(sa.text("DELETE FROM banyan_audit WHERE seq = 2"))
    with engine.connect() as conn:
        assert audit.verify(conn).problems == ["entry 2 is missing (deleted)"]
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM banyan_audit WHERE seq = 4"))
    with engine.connect() as conn:
        assert audit.verify(conn).problems[-1] == "entry 4 at the end is missing (deleted)"
