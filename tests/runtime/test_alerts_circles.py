"""Guarantee circles watched as a whole (issue 13, contagion), on SQLite and PostgreSQL: a circle is
orange when one member is red and red when two are, agreeing with a count made here from the graph
and the members' alerts; a member turning red raises its circle's alert in the same pass of the
change feed and tells the people of each member's branch; a reader sees the circle's alert when
they may read one of its members, and its page names those members only — the others are a count;
a reader who may read none of them gets the 404 of an unknown alert."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from runtime.alerts import worker  # noqa: F401 - registers the feed subscriber `alerts`
from runtime.alerts.service import AlertService
from runtime.alerts.store import AlertError
from runtime.alerts.tables import OPEN, alerts
from runtime.auth.org import OrgTree
from runtime.auth.scope import scope_for
from runtime.auth.users import UserStore
from runtime.events.intake import EventIntake
from runtime.graph.service import graph_service
from runtime.jobs import feed
from runtime.jobs.outbox_tables import outbox

from .demo_db import demo_bank

RULE = "guarantee_circle_distress"


@pytest.fixture
def bank(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine, records = demo_bank(db_url, scale=0.02, people=True)
    service = AlertService(engine, records=records)
    worker.use(service)
    while feed.run_once(engine, "w0", names=["alerts"]):
        pass
    service.scan()
    yield engine, records, service
    engine.dispose()


def _circles(engine, records) -> dict[int, dict]:
    """Every circle counted here: {anchor id: {members: {id: (key, branch)}, red: members with an open red alert}}."""
    graph = graph_service(engine, records).snapshot().guarantees
    with engine.connect() as conn:
        firms = {str(k): (i, b) for i, k, b in conn.exec_driver_sql("SELECT id, credit_code, branch FROM e_company")}
        red = set(conn.execute(sa.select(alerts.c.subject_id).where(
            alerts.c.subject_entity == "company", alerts.c.status == OPEN, alerts.c.grade == "red")).scalars())
    out = {}
    for members in graph.circles():
        ids = {firms[k][0]: (k, firms[k][1]) for k in members}
        out[min(ids)] = {"members": ids, "red": len(set(ids) & red)}
    return out


def _open(engine) -> dict[int, str]:
    with engine.connect() as conn:
        return {r.subject_id: r.grade for r in conn.execute(sa.select(alerts.c.subject_id, alerts.c.grade).where(
            alerts.c.rule == RULE, alerts.c.status == OPEN))}


def test_a_circle_is_orange_with_one_red_member_and_red_with_two(bank):
    engine, records, _ = bank
    circles = _circles(engine, records)
    expected = {a: ("red" if c["red"] >= 2 else "orange") for a, c in circles.items() if c["red"]}
    assert expected and set(expected.values()) == {"orange", "red"}, "the demo bank has circles of both grades"
    assert _open(engine) == expected


def test_a_member_turning_red_raises_its_circle_and_tells_each_members_people(bank, tmp_path):
    engine, records, service = bank
    circles = _circles(engine, records)
    calm = sorted((a for a, c in circles.items() if not c["red"]), key=lambda a: -len(circles[a]["members"]))
    assert calm, "the demo bank has a circle with no member in red"
    anchor = calm[0]
    key = sorted(k for k, _ in circles[anchor]["members"].values())[0]
    _dishonest(engine, records, tmp_path, key, "X910001")
    assert _open(engine).get(anchor) == "orange"
    with engine.connect() as conn:
        (alert_id,) = conn.execute(sa.select(alerts.c.id).where(alerts.c.rule == RULE, alerts.c.subject_id == anchor,
                                                                 alerts.c.status == OPEN)).scalars()
        told = set(conn.execute(sa.select(outbox.c.recipient).where(outbox.c.source == f"alert:{alert_id}",
                                                                      outbox.c.channel == "in_app")).scalars())
    users = UserStore(engine)
    branches = {b for _, b in circles[anchor]["members"].values()}
    rms = {u.name for u in users.list() if any(r == "relationship_manager" for r, _ in u.roles)
           and u.org_unit in branches}
    assert rms and rms <= told, "every member's branch RM hears of the circle"
    # a scan afterwards writes nothing new for the circle
    before = _open(engine)
    service.scan([RULE])
    assert _open(engine) == before


def test_a_circle_alert_names_only_the_members_the_reader_may_read(bank, tmp_path):
    engine, records, service = bank
    circles = _circles(engine, records)
    tree, users = OrgTree(records.refresh().bundle), UserStore(engine)
    rm, stranger = users.get("rm_sh_01"), users.get("rm_bj_01")

    def branches(a):
        return {b for _, b in circles[a]["members"].values()}
    mixed = sorted((a for a in circles if "sh_branch" in branches(a) and len(branches(a)) > 1
                    and "bj_branch" not in branches(a)), key=lambda a: (a not in _open(engine), a))
    assert mixed, "the demo bank has a circle across Shanghai and other branches, none in Beijing"
    anchor = mixed[0]
    if anchor not in _open(engine):             # raise it: a member outside Shanghai turns red
        key = sorted(k for k, b in circles[anchor]["members"].values() if b != "sh_branch")[0]
        _dishonest(engine, records, tmp_path, key, "X920001")
    with engine.connect() as conn:
        (alert_id,) = conn.execute(sa.select(alerts.c.id).where(alerts.c.rule == RULE, alerts.c.subject_id == anchor,
                                                                 alerts.c.status == OPEN)).scalars()
    scope = scope_for(tree, rm)
    seen = service.get(alert_id, scope=scope)
    mine = {k for k, b in circles[anchor]["members"].values() if b == "sh_branch"}
    assert {m["key"] for m in seen["circle"]["members"]} == mine
    assert seen["circle"]["others"] == len(circles[anchor]["members"]) - len(mine) > 0
    assert alert_id in {a["id"] for a in service.list(rule=RULE, scope=scope, limit=5000)}
    whole = service.get(alert_id)
    assert len(whole["circle"]["members"]) == len(circles[anchor]["members"]) and whole["circle"]["others"] == 0
    assert all(m["name"] and m["name"] not in seen["message"]["zh"] for m in whole["circle"]["members"])
    # someone who may read none of the circle's members cannot tell it exists
    with pytest.raises(AlertError) as err:
        service.get(alert_id, scope=scope_for(tree, stranger))
    assert err.value.status == 404
    assert alert_id not in {a["id"] for a in service.list(rule=RULE, scope=scope_for(tree, stranger), limit=5000)}


def _dishonest(engine, records, tmp_path, key: str, number: str) -> None:
    """A 失信被执行人 listing for the company `key`, imported, and the change feed worked off."""
    path = tmp_path / f"{number}.csv"
    path.write_text("event_no,company,type,occurred_on,title,amount,severity,source\n"
                    f"{number},{key},dishonest_debtor,2026-11-30,列入失信被执行人名单,35000000,high,credit_china\n",
                    encoding="utf-8")
    assert EventIntake(engine, records=records).take_file(path, actor="court-feed").accepted == [number]
    while feed.run_once(engine, "w1", names=["alerts"]):
        pass
