"""`Records.problems`: every problem a write would meet, with nothing written — what a page asks
when its own check already found one, so it shows at once everything the API would say."""
from __future__ import annotations

import sqlalchemy as sa

from runtime.jobs.changes import last_seq

from .records_bundle import deploy


def _state(engine, recs):
    t = recs.live.table("company")
    with engine.connect() as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(t)).scalar(), last_seq(conn),
                conn.execute(sa.text("SELECT count(*) FROM banyan_audit")).scalar())


def test_a_new_record_gets_every_problem_the_create_would_and_nothing_is_written(engine):
    recs = deploy(engine)
    recs.create("company", {"code": "C100", "name": "Acme"}, actor="a")
    before = _state(engine, recs)
    found = recs.problems("company", {"code": "C100", "name": "", "group": "G404", "capital": "x"}, actor="a")
    assert sorted((p.path[0], p.code) for p in found) == [("capital", "number"), ("code", "unique"),
                                                          ("group", "reference"), ("name", "required")]
    assert _state(engine, recs) == before
    assert recs.problems("company", {"code": "C200", "name": "Fine"}, actor="a") == []
    assert _state(engine, recs) == before                     # a good record is not written either


def test_a_change_gets_its_problems_and_the_record_stays_as_it_was(engine):
    recs = deploy(engine)
    c = recs.create("company", {"code": "C100", "name": "Acme", "capital": 10}, actor="a")
    recs.create("company", {"code": "C200", "name": "Other"}, actor="a")
    found = recs.problems("company", {"code": "C200", "debt": 500}, actor="a", id_=c["id"])
    assert sorted((p.path[0], p.code) for p in found) == [("code", "unique"), ("debt", "validation")]
    assert recs.get("company", c["id"])["version"] == 1 and recs.get("company", c["id"])["code"] == "C100"
