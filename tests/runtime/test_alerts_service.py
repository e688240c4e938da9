"""The alert room (issue 13, first part): a scan opens, raises, lowers and lifts alerts and writes
only differences; a record change reaches the rules whose `on:` hears it through the change feed,
in the transaction that moves the feed's cursor; every step is on the alert's timeline and in the
audit chain; at most one open alert per rule and subject. SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from runtime.alerts import worker as alert_worker
from runtime.alerts.service import AlertService
from runtime.alerts.store import AlertError
from runtime.alerts.tables import alert_events, alerts
from runtime.audit import log as audit
from runtime.auth.users import UserStore
from runtime.cli.main import main
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.live import live_from_bundle
from runtime.deploy.releases import release_of
from runtime.jobs import feed
from runtime.records.service import Records
from runtime.storage.db import make_engine

from .bundles import bundle, entity

COMPANY = entity("company", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true, max_length: 20}
    - {name: name, type: string, label: {en: Name}, required: true}
""", extra="""
collections:
  - {name: loans, entity: loan, via: borrower, label: {en: Loans}}
""")
LOAN = entity("loan", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true, max_length: 20}
    - {name: borrower, type: ref(company), label: {en: Borrower}, required: true}
    - {name: overdue_days, type: integer, label: {en: Overdue days}, min: 0}
""")
RULE = ("overdue.yaml", """\
apiVersion: banyan/v1
kind: AlertRule
metadata: {name: overdue, label: {zh: 贷款逾期, en: Loan overdue}}
spec:
  scope: company
  category: financial
  on: [loans.updated, loans.created]
  grades:
    yellow: "max(loans, l -> l.overdue_days) >= 1"
    orange: "max(loans, l -> l.overdue_days) >= 31"
    red: "max(loans, l -> l.overdue_days) > 90"
  message: {zh: '{{ subject.name }} 贷款逾期', en: '{{ subject.name }} has overdue loans'}
  evidence:
    - {label: {zh: 最长逾期天数, en: Longest overdue}, value: "max(loans, l -> l.overdue_days)"}
  respond_within: {yellow: 10 days, orange: 5 days, red: 2 days}
  suppress: {while_open: true, lift_after: 30 days}
""")

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


@pytest.fixture
def bank(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine = make_engine(db_url)
    b = bundle(COMPANY, LOAN, RULE)
    reg = DeploymentRegistry(engine)
    out = reg.deploy(release_of(b), author="test")
    records = Records(engine, live_from_bundle(b, out.version, reg.current().model))
    clock = Clock()
    service = AlertService(engine, records=records, clock=clock)
    alert_worker.use(service)
    records.create("company", {"code": "C1", "name": "甲公司"}, actor="ann")
    records.create("company", {"code": "C2", "name": "乙公司"}, actor="ann")
    yield engine, records, service, clock, db_url
    engine.dispose()


def rows(engine, **where):
    with engine.connect() as conn:
        q = sa.select(alerts).order_by(alerts.c.id)
        for k, v in where.items():
            q = q.where(alerts.c[k] == v)
        return list(conn.execute(q).mappings())


def timeline(engine, alert_id):
    with engine.connect() as conn:
        return [r.kind for r in conn.execute(sa.select(alert_events.c.kind).where(alert_events.c.alert_id == alert_id)
                                             .order_by(alert_events.c.id))]


def set_overdue(records, code, days):
    loan = records.find("loan", code)
    records.update("loan", loan["id"], {"overdue_days": days}, actor="ann")


def test_a_scan_opens_raises_lowers_lifts_and_writes_only_differences(bank):
    engine, records, service, clock, _ = bank
    records.create("loan", {"code": "L1", "borrower": "C1", "overdue_days": 40}, actor="ann")
    records.create("loan", {"code": "L2", "borrower": "C2", "overdue_days": 0}, actor="ann")
    counts = service.scan()
    assert counts.subjects == 2 and dict(counts.steps) == {"open": 1}
    (a,) = rows(engine)
    assert (a["rule"], a["subject_key"], a["grade"], a["status"]) == ("overdue", "C1", "orange", "open")
    assert "甲公司 贷款逾期" in a["message"] and '"value":40' in a["evidence"]
    assert a["due_at"] == (T0 + timedelta(days=5)).replace(tzinfo=None)
    assert dict(service.scan().steps) == {}                       # nothing changed: nothing written

    set_overdue(records, "L1", 120)
    clock.now = T0 + timedelta(days=1)
    assert dict(service.scan().steps) == {"raise": 1}
    a = rows(engine)[0]
    assert a["grade"] == "red" and a["due_at"] == (clock.now + timedelta(days=2)).replace(tzinfo=None)
    set_overdue(records, "L1", 5)
    assert dict(service.scan().steps) == {"lower": 1} and rows(engine)[0]["grade"] == "yellow"

    set_overdue(records, "L1", 0)                                  # paid: the quiet period starts
    clock.now = T0 + timedelta(days=2)
    assert dict(service.scan().steps) == {"clear": 1} and rows(engine)[0]["status"] == "open"
    clock.now = T0 + timedelta(days=20)
    assert dict(service.scan().steps) == {}
    clock.now = T0 + timedelta(days=33)
    assert dict(service.scan().steps) == {"lift": 1}
    a = rows(engine)[0]
    assert a["status"] == "lifted" and a["close_reason"] == "quiet period over"
    assert timeline(engine, a["id"]) == ["open", "raise", "lower", "clear", "lift"]
    with engine.connect() as conn:
        steps = [r.after for r in conn.execute(sa.select(audit.audit_log.c.after)
                                                .where(audit.audit_log.c.action == "alert"))]
    assert len(steps) == 5 and all('"rule":"overdue"' in s for s in steps)
    with engine.connect() as conn:
        assert audit.verify(conn).problems == []


def test_a_record_change_reaches_the_rule_through_the_feed(bank):
    engine, records, service, clock, _ = bank
    feed.run_once(engine, "w1", names=["alerts"])                 # the companies' creation: no rule hears it
    assert rows(engine) == []
    records.create("loan", {"code": "L1", "borrower": "C2", "overdue_days": 95}, actor="ann")
    assert rows(engine) == []                                      # not in the writer's transaction
    assert feed.run_once(engine, "w1", names=["alerts"]) >= 1
    (a,) = rows(engine)
    assert (a["subject_key"], a["grade"]) == ("C2", "red")
    set_overdue(records, "L1", 96)                                 # same grade, other evidence: refreshed
    feed.run_once(engine, "w1", names=["alerts"])
    assert timeline(engine, a["id"]) == ["open", "refresh"]
    feed.run_once(engine, "w2", names=["alerts"])                  # each change once, whoever runs the feed
    assert timeline(engine, a["id"]) == ["open", "refresh"] and len(rows(engine)) == 1


def test_a_deleted_subject_closes_its_alerts(bank):
    engine, records, service, clock, _ = bank
    loan = records.create("loan", {"code": "L1", "borrower": "C1", "overdue_days": 10}, actor="ann")
    service.scan()
    records.delete("loan", loan["id"], actor="ann")
    records.delete("company", records.find("company", "C1")["id"], actor="ann")
    assert dict(service.scan().steps) == {"subject_deleted": 1}
    assert rows(engine)[0]["close_reason"] == "the record was deleted"


def test_one_open_alert_per_rule_and_subject_is_held_by_the_database(bank):
    engine, records, service, clock, _ = bank
    records.create("loan", {"code": "L1", "borrower": "C1", "overdue_days": 10}, actor="ann")
    service.scan()
    a = rows(engine)[0]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(alerts.insert().values({k: v for k, v in a.items() if k != "id"}))


def test_an_unknown_rule_is_refused_with_the_known_ones(bank):
    engine, records, service, clock, _ = bank
    with pytest.raises(AlertError) as refused:
        service.scan(["overdeu"])
    assert refused.value.code == "unknown_rule" and "overdue" in refused.value.message


def test_the_cli_scans_and_lists(bank, monkeypatch):
    engine, records, service, clock, db_url = bank
    records.create("loan", {"code": "L1", "borrower": "C1", "overdue_days": 10}, actor="ann")
    monkeypatch.setenv("BANYAN_DATABASE_URL", db_url)
    runner = CliRunner()
    out = runner.invoke(main, ["alerts", "scan"])
    assert out.exit_code == 0, out.output
    assert "2 subjects" in out.output and "open 1" in out.output
    monkeypatch.setenv("BANYAN_LANG", "zh")
    listed = runner.invoke(main, ["alerts", "list"])
    assert "#1 黄色 overdue C1: 甲公司 贷款逾期 [open]" in listed.output
    monkeypatch.setenv("BANYAN_LANG", "en")
    listed = runner.invoke(main, ["alerts", "list"])
    assert "#1 Yellow overdue C1: 甲公司 has overdue loans [open]" in listed.output
    bad = runner.invoke(main, ["alerts", "scan", "--at", "2026-13-01"])
    assert bad.exit_code == 2 and "not a date" in bad.output and "Traceback" not in bad.output


def test_the_cli_explains_a_grade(bank, monkeypatch):
    engine, records, service, clock, db_url = bank
    records.create("loan", {"code": "L1", "borrower": "C1", "overdue_days": 40}, actor="ann")
    monkeypatch.setenv("BANYAN_DATABASE_URL", db_url)
    monkeypatch.setenv("BANYAN_LANG", "zh")
    runner = CliRunner()
    out = runner.invoke(main, ["alerts", "explain", "overdue", "C1"])
    assert out.exit_code == 0, out.output
    assert "grade: orange" in out.output
    assert "red: 不成立" in out.output and "orange: 成立" in out.output
    assert "max(loans, l -> l.overdue_days) > 90" in out.output
    assert "max(loans, l -> l.overdue_days) 为 40，需 > 90，相差 50" in out.output     # how far red is
    assert "最长逾期天数: 40" in out.output
    data = json.loads(runner.invoke(main, ["alerts", "explain", "overdue", "C1", "--format", "json"]).output)
    assert data["grade"] == "orange" and [g["grade"] for g in data["grades"]] == ["red", "orange", "yellow"]
    assert rows(engine) == []                                   # nothing written
    unknown = runner.invoke(main, ["alerts", "explain", "overdue", "C9"])
    assert unknown.exit_code == 2 and "C9" in unknown.output and "Traceback" not in unknown.output


def test_a_scheduled_rule_is_scanned_when_its_time_comes(db_url, tmp_path, monkeypatch):
    from runtime.jobs import leases
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine = make_engine(db_url)
    daily = (RULE[0], RULE[1].replace("on: [loans.updated, loans.created]", "on: [{schedule: daily 06:00}]"))
    b = bundle(COMPANY, LOAN, daily)
    reg = DeploymentRegistry(engine)
    out = reg.deploy(release_of(b), author="test")
    records = Records(engine, live_from_bundle(b, out.version, reg.current().model))
    clock = Clock()                                    # 2026-03-02 09:00 in Beijing
    service = AlertService(engine, records=records, clock=clock)
    alert_worker.use(service)
    records.create("company", {"code": "C1", "name": "甲公司"}, actor="ann")
    records.create("loan", {"code": "L1", "borrower": "C1", "overdue_days": 3}, actor="ann")
    assert alert_worker.keep_schedules(engine) == 1
    (item,) = leases.pending(engine, alert_worker.SCAN)
    assert item["due_at"] == datetime(2026, 3, 2, 22, 0)           # 06:00 the next morning, Beijing time
    alert_worker.keep_schedules(engine)                            # an idle check changes nothing
    assert [i["due_at"] for i in leases.pending(engine, alert_worker.SCAN)] == [item["due_at"]]
    assert leases.run_once(engine, "w1", kinds=[alert_worker.SCAN], now=datetime(2026, 3, 2, 21, 59)) == 0
    assert rows(engine) == []
    assert leases.run_once(engine, "w1", kinds=[alert_worker.SCAN], now=datetime(2026, 3, 2, 22, 0, 30)) == 1
    assert [(a["subject_key"], a["grade"]) for a in rows(engine)] == [("C1", "yellow")]
    clock.now = datetime(2026, 3, 2, 22, 1, tzinfo=timezone.utc)
    alert_worker.keep_schedules(engine)                            # the next morning's scan
    assert [i["due_at"] for i in leases.pending(engine, alert_worker.SCAN)] == [datetime(2026, 3, 3, 22, 0)]
    engine.dispose()


GROUP = entity("group", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true, max_length: 20}
    - {name: name, type: string, label: {en: Name}, required: true}
""", extra="""
collections:
  - {name: members, entity: company, via: group, label: {en: Members}}
""")
MEMBER = entity("company", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true, max_length: 20}
    - {name: name, type: string, label: {en: Name}, required: true}
    - {name: group, type: ref(group), label: {en: Group}}
""", extra="""
display: name
collections:
  - {name: loans, entity: loan, via: borrower, label: {en: Loans}}
""")


def test_a_members_alert_rolls_up_to_its_group(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine = make_engine(db_url)
    rolled = (RULE[0], RULE[1].replace("  suppress: {while_open: true, lift_after: 30 days}",
                                       "  suppress: {while_open: true}\n  roll_up: {to: group}"))
    b = bundle(GROUP, MEMBER, LOAN, rolled)
    reg = DeploymentRegistry(engine)
    out = reg.deploy(release_of(b), author="test")
    records = Records(engine, live_from_bundle(b, out.version, reg.current().model))
    service = AlertService(engine, records=records, clock=Clock())
    alert_worker.use(service)
    records.create("group", {"code": "G1", "name": "一号集团"}, actor="ann")
    for code, name in (("C1", "甲公司"), ("C2", "乙公司")):
        records.create("company", {"code": code, "name": name, "group": "G1"}, actor="ann")
    records.create("loan", {"code": "L1", "borrower": "C1", "overdue_days": 100}, actor="ann")
    records.create("loan", {"code": "L2", "borrower": "C2", "overdue_days": 0}, actor="ann")
    counts = service.scan()
    assert dict(counts.steps) == {"open": 1, "roll-up open": 1}
    (group_alert,) = rows(engine, subject_entity="group")
    assert (group_alert["subject_key"], group_alert["grade"]) == ("G1", "orange")      # red, softened one step
    assert '"value":{"red":1}' in group_alert["evidence"] and "甲公司" in group_alert["evidence"]
    assert "一号集团 贷款逾期" in group_alert["message"]
    set_overdue(records, "L2", 5)                                   # through the feed: the group follows
    feed.run_once(engine, "w1", names=["alerts"])
    group_alert = rows(engine, subject_entity="group")[0]
    assert group_alert["grade"] == "orange" and '"yellow":1' in group_alert["evidence"]
    set_overdue(records, "L1", 0)
    feed.run_once(engine, "w1", names=["alerts"])                  # C1 lifts; a yellow member alone stays its own
    assert rows(engine, subject_entity="group")[0]["status"] == "lifted"
    assert timeline(engine, group_alert["id"]) == ["open", "refresh", "lift"]
    assert dict(service.scan().steps) == {}
    engine.dispose()


def test_a_condition_that_fails_on_one_subject_is_kept_and_stops_nothing(bank, monkeypatch):
    """A condition that cannot be evaluated on one subject's data (typed data rarely lets one: a
    function failing on a missing figure) is kept as that subject's error; the others are graded."""
    import importlib

    from dsl.expr import EvaluationError
    evaluation = importlib.import_module("engine.alerts.evaluate")
    engine, records, service, clock, db_url = bank
    plain = evaluation._tests

    def failing(rule):
        out = []
        for name, test, when in plain(rule):
            if when.text.endswith("> 90"):
                def test(ctx, test=test, when=when):
                    if ctx["code"] == "C1":
                        raise EvaluationError("a function failed on this data", text=when.text, span=None)
                    return test(ctx)
            out.append((name, test, when))
        return tuple(out)
    monkeypatch.setattr(evaluation, "_tests", failing)
    records.create("loan", {"code": "L1", "borrower": "C1", "overdue_days": 5}, actor="ann")
    records.create("loan", {"code": "L2", "borrower": "C2", "overdue_days": 40}, actor="ann")
    counts = service.scan()
    assert dict(counts.steps) == {"open": 2}                        # C1 yellow, C2 orange: nothing stopped
    (err,) = service.errors()
    assert err["subject"]["key"] == "C1" and err["errors"] == [
        {"where": "red", "expression": "max(loans, l -> l.overdue_days) > 90"}]
    monkeypatch.setenv("BANYAN_DATABASE_URL", db_url)
    listed = CliRunner().invoke(main, ["alerts", "errors"])
    assert listed.exit_code == 0, listed.output
    assert "overdue company C1: `max(loans, l -> l.overdue_days) > 90` (red) could not be evaluated" in listed.output
    monkeypatch.setattr(evaluation, "_tests", plain)               # readable again: the error goes
    service.scan()
    assert service.errors() == []


def test_a_person_acknowledges_comments_and_closes_an_open_alert(bank):
    engine, records, service, clock, _ = bank
    records.create("loan", {"code": "L1", "borrower": "C1", "overdue_days": 10}, actor="ann")
    service.scan()
    (a,) = rows(engine)
    seen = service.act(a["id"], "acknowledge", actor="risk_1")
    assert seen["acknowledged_by"] == "risk_1" and seen["status"] == "open"
    service.act(a["id"], "acknowledge", actor="risk_2")               # taken in hand already: nothing added
    with pytest.raises(AlertError) as empty:
        service.act(a["id"], "comment", actor="risk_1", text="  ")
    assert empty.value.code == "text_required" and empty.value.status == 422
    assert empty.value.detail("en")[0]["loc"][-1] == "text"
    with pytest.raises(AlertError) as long:
        service.act(a["id"], "close", actor="risk_1", text="x" * 501)
    assert long.value.code == "text_too_long"
    service.act(a["id"], "comment", actor="risk_1", text="已电话联系企业财务")
    closed = service.act(a["id"], "close", actor="risk_1", text="已结清")
    assert (closed["status"], closed["closed_by"], closed["close_reason"]) == ("closed", "risk_1", "已结清")
    assert [t["kind"] for t in closed["timeline"]] == ["open", "acknowledge", "comment", "close"]
    assert closed["timeline"][2]["data"] == {"text": "已电话联系企业财务"}
    with pytest.raises(AlertError) as again:
        service.act(a["id"], "comment", actor="risk_1", text="再看看")
    assert again.value.code == "not_open" and again.value.status == 409
    with pytest.raises(AlertError) as nothing:
        service.act(a["id"], "escalate", actor="risk_1")
    assert nothing.value.code == "unknown_action"
    with engine.connect() as conn:
        steps = [r.after for r in conn.execute(sa.select(audit.audit_log.c.after).where(audit.audit_log.c.action == "alert"))]
    assert sum('"step":"close"' in s for s in steps) == 1
    assert service.scan().steps.get("open") == 1            # still overdue: a closed alert does not hold back a new one


def test_the_open_counts_in_one_query_agree_with_counting_each(bank):
    """What the workbench and the inbox show (AlertService.open_counts) is what counting each figure
    on its own says: by grade, past the answer time, handled by a person — open alerts only."""
    engine, records, service, clock, _ = bank
    records.create("loan", {"code": "L1", "borrower": "C1", "overdue_days": 10}, actor="ann")
    records.create("loan", {"code": "L2", "borrower": "C2", "overdue_days": 10}, actor="ann")
    service.scan()
    first, second = rows(engine)
    UserStore(engine).save("risk_2", display_name="风险经理", org_unit="head_office", password="a-Long-pass-2026!", new=True)
    service.act(first["id"], "assign", actor="risk_1", text="risk_2")
    clock.now = T0 + timedelta(days=60)                         # past every answer time
    found = service.open_counts(assigned_to="risk_2")
    expected = {g: service.count(grade=g) for g in ("red", "orange", "yellow")}
    assert {g: found[g] for g in expected} == expected and sum(expected.values()) == 2 == found["total"]
    assert found["overdue"] == service.count(overdue=True) and found["mine"] == 1 == service.count(assigned_to="risk_2")
    service.act(second["id"], "close", actor="risk_1", text="已结清")
    assert service.open_counts()["total"] == 1 and "mine" not in service.open_counts()
