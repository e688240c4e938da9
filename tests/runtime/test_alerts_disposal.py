"""Issue 13's "done when", on SQLite and PostgreSQL: a 失信被执行人 event for a Shanghai member,
imported from a file, opens a red alert; the alert freezes the member's unused facilities through
the records service and starts ONE major-risk disposal flow whose tasks reach the risk manager,
then the relationship manager and legal; the mail server receives exactly one distinct
Message-ID per recipient of the alert's e-mail, even when a crash makes the worker send again.
A bad event in the same file is rejected with its line and blocks nothing."""
from __future__ import annotations

import json
import socket
from email import message_from_bytes
from pathlib import Path

import pytest
import sqlalchemy as sa

from runtime.alerts import worker  # noqa: F401 - registers the feed subscriber `alerts`
from runtime.alerts.service import AlertService
from runtime.alerts.tables import alert_actions, alert_events, alerts
from runtime.events.intake import EventIntake
from runtime.flows.service import FlowService
from runtime.flows.tables import instances
from runtime.jobs import feed
from runtime.jobs.outbox import Outbox
from runtime.jobs.outbox_tables import outbox

from .demo_db import demo_bank


class Inbox:
    """What the SMTP server received: (recipient, Message-ID) per message."""

    def __init__(self):
        self.got: list[tuple[str, str]] = []

    async def handle_DATA(self, server, session, envelope):
        mail = message_from_bytes(envelope.content)
        for rcpt in envelope.rcpt_tos:
            self.got.append((rcpt, mail["Message-ID"]))
        return "250 OK"


def smtp_server():
    """A local SMTP server (aiosmtpd) on a free port: (controller, what it received, port)."""
    from aiosmtpd.controller import Controller
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, box, port


@pytest.fixture
def smtp(monkeypatch):
    controller, box, port = smtp_server()
    monkeypatch.setenv("BANYAN_SMTP_URL", f"smtp://127.0.0.1:{port}")
    yield box
    controller.stop()


@pytest.fixture
def bank(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine, records = demo_bank(db_url, scale=0.01, people=True)
    worker.use(AlertService(engine, records=records))
    while feed.run_once(engine, "w0", names=["alerts"]):          # the seed's own changes, heard first
        pass
    yield engine, records
    engine.dispose()


def _member(engine) -> tuple[str, str, list[str]]:
    """A Shanghai member with active facilities and no dishonest-debtor alert: (credit code, name, facilities)."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT c.credit_code, c.name, f.facility_no FROM e_company c JOIN e_facility f ON f.borrower = c.id "
            "WHERE c.branch = 'sh_branch' AND f.status = 'active' ORDER BY c.credit_code, f.facility_no").all()
        flagged = set(conn.execute(sa.select(alerts.c.subject_key).where(alerts.c.rule == "dishonest_debtor_listed"))
                      .scalars())
    by_code: dict[str, tuple[str, list[str]]] = {}
    for code, name, facility in rows:
        if code not in flagged:
            by_code.setdefault(code, (name, []))[1].append(facility)
    assert by_code, "the demo bank has a Shanghai borrower with active facilities"
    code = sorted(by_code)[0]
    return code, by_code[code][0], by_code[code][1]


def _events_file(tmp_path: Path, code: str) -> Path:
    path = tmp_path / "court.csv"
    path.write_text(
        "event_no,company,type,occurred_on,title,amount,severity,source\n"
        f"X900001,{code},dishonest_debtor,2026-11-30,列入失信被执行人名单,35000000,high,credit_china\n"
        f"X900002,{code},litigation,2026-11-30,买卖合同纠纷,1000,medium,court\n"         # no role_in_case: rejected
        f"X900001,{code},dishonest_debtor,2026-11-30,列入失信被执行人名单,35000000,high,credit_china\n",
        encoding="utf-8")
    return path


def test_a_dishonest_debtor_event_freezes_limits_starts_one_disposal_and_mails_each_person_once(bank, smtp, tmp_path):
    engine, records = bank
    code, name, facilities = _member(engine)
    outcome = EventIntake(engine, records=records).take_file(_events_file(tmp_path, code), actor="court-feed")
    assert outcome.accepted == ["X900001"] and outcome.duplicates == ["X900001"]
    (bad,) = outcome.rejected
    assert bad.index == 3 and bad.key == "X900002" and [p.path for p in bad.problems] == [("role_in_case",)]

    while feed.run_once(engine, "w1", names=["alerts"]):
        pass
    with engine.connect() as conn:
        (alert,) = conn.execute(sa.select(alerts).where(alerts.c.rule == "dishonest_debtor_listed",
                                                        alerts.c.subject_key == code)).mappings()
        assert alert["grade"] == "red" and alert["status"] == "open"
        frozen = conn.exec_driver_sql(
            "SELECT f.facility_no, f.status FROM e_facility f JOIN e_company c ON c.id = f.borrower "
            f"WHERE c.credit_code = '{code}'").all()
        assert {f for f, s in frozen if s == "frozen"} >= set(facilities)
        assert not [f for f, s in frozen if s == "active"]
        flows = conn.execute(sa.select(instances).where(instances.c.flow == "major_risk_disposal",
                                                        instances.c.subject_key == code)).mappings().all()
        assert len(flows) == 1
        steps = [e.kind for e in conn.execute(sa.select(alert_events).where(alert_events.c.alert_id == alert["id"])
                                              .order_by(alert_events.c.id))]
        assert steps == ["open", "records_updated", "flow_started"]
    instance = flows[0]["id"]
    form = FlowService(engine).instance(instance)["form"]
    assert form["grade"] == "red" and form["alert_rule"] == "列入失信被执行人" and name in form["situation"]

    # again, by another worker and a scan: nothing new is frozen, started or sent
    sent_before = _count(engine, outbox)
    AlertService(engine, records=records).scan(["dishonest_debtor_listed"])
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(instances)
                            .where(instances.c.flow == "major_risk_disposal", instances.c.subject_key == code)).scalar() == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(alert_actions)
                            .where(alert_actions.c.alert_id == alert["id"])).scalar() == 2
    assert _count(engine, outbox) == sent_before

    # the disposal's tasks: the risk manager assesses, then the RM and legal are given theirs
    flows_service = FlowService(engine)
    (task,) = [t for t in flows_service.inbox("risk_sh")["items"] if t["instance"] == instance]
    flows_service.act(instance, "complete", actor="risk_sh", task=task["task"],
                      fields={"situation": "已核实：列入失信被执行人名单", "legal_action": True})
    for person, node in (("rm_sh_01", "client_contact"), ("legal_sh", "legal_review"), ("risk_sh", "risk_measures")):
        assert [t["node"] for t in flows_service.inbox(person)["items"] if t["instance"] == instance] == [node]

    # the alert's e-mail: once per recipient, and a resend after a crash carries the same Message-ID
    box = Outbox(engine, "mailer")
    while box.deliver():
        pass
    source = f"alert:{alert['id']}"
    with engine.begin() as conn:                 # the worker "crashed" after sending, before marking them sent
        mails = conn.execute(sa.select(outbox.c.recipient, outbox.c.message_id)
                             .where(outbox.c.source == source, outbox.c.channel == "email")).all()
        conn.execute(outbox.update().where(outbox.c.source == source, outbox.c.channel == "email")
                     .values(sent_at=None, due_at=sa.func.current_timestamp()))
    while box.deliver():
        pass
    assert {r for r, _ in mails} == {"rm_sh_01", "risk_sh", "cro"}
    got = [(rcpt, mid) for rcpt, mid in smtp.got if any(m in mid for _, m in mails)]
    assert len(got) == 2 * len(mails)                                         # each sent twice …
    per = {}
    for rcpt, mid in got:
        per.setdefault(rcpt, set()).add(mid)
    assert per == {f"{u}@bank.example.cn": {next(f"<{m}@bank.example.cn>" for r, m in mails if r == u)}
                   for u in ("rm_sh_01", "risk_sh", "cro")}                  # … one distinct message per person


def test_a_feed_batch_asks_which_deployment_is_live_once(bank, tmp_path, monkeypatch):
    """The alert worker's batch that opens the alert, freezes the limits and starts the disposal
    asks the database which deployment is live once (runtime/deploy/live.one_look), not once for
    every service the disposal goes through."""
    engine, records = bank
    code, _name, _facilities = _member(engine)
    EventIntake(engine, records=records).take_file(_events_file(tmp_path, code), actor="court-feed")
    looks: list[str] = []
    batches: list[int] = []
    one_batch = feed._one_batch

    def counted(*args, **kwargs):
        done = one_batch(*args, **kwargs)
        batches.append(done[0])
        return done

    def seen(conn, cursor, statement, *args):
        if "live_version" in statement:             # runtime/deploy/live.py asks which deployment is live
            looks.append(statement)
    monkeypatch.setattr(feed, "_one_batch", counted)
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        while feed.run_once(engine, "w1", names=["alerts"]):
            pass
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    with engine.connect() as conn:
        kinds = [e.kind for e in conn.execute(sa.select(alert_events).join(alerts, alerts.c.id == alert_events.c.alert_id)
                                              .where(alerts.c.subject_key == code))]
    assert {"open", "records_updated", "flow_started"} <= set(kinds)
    assert 0 < len(looks) <= len([n for n in batches if n]), (looks, batches)


def test_events_by_the_api_are_taken_one_by_one(bank):
    engine, records = bank
    code, _, _ = _member(engine)
    from fastapi.testclient import TestClient

    from runtime.http.app import create_app
    client = TestClient(create_app(engine))
    batch = [{"event_no": "X910001", "company": code, "type": "negative_news", "occurred_on": "2026-12-01",
              "title": "媒体报道资金链紧张", "source": "news"},
             {"event_no": "X910002", "company": "NO-SUCH-COMPANY", "type": "negative_news",
              "occurred_on": "2026-12-01", "title": "?", "source": "news"},
             "not an event"]
    answer = client.post("/events", json=batch, headers={"Accept-Language": "zh"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["accepted"] == 1 and body["entity"] == "external_event"
    assert [(r["index"], r["event"]) for r in body["rejected"]] == [(1, "X910002"), (2, None)]
    assert body["rejected"][0]["problems"][0]["loc"] == ["company"]
    again = client.post("/events", json={"entity": "external_event", "events": batch[:1]}).json()
    assert again["accepted"] == 0 and again["duplicates"] == ["X910001"]
    wrong = client.post("/events", json={"entity": "company", "events": batch[:1]})
    assert wrong.status_code == 404 and wrong.json()["error"] == "not_an_events_entity"
    assert client.post("/events", json={"events": "x"}).status_code == 422


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar())


def test_the_demo_users_have_mail_addresses(bank):
    engine, _ = bank
    from runtime.auth.tables import people
    with engine.connect() as conn:
        assert conn.execute(sa.select(people.c.email).where(people.c.name == "risk_sh")).scalar() \
            == "risk_sh@bank.example.cn"
    json.dumps({})


def test_a_second_red_alert_on_the_client_joins_the_running_disposal(bank):
    engine, records = bank
    code, _, _ = _member(engine)
    intake = EventIntake(engine, records=records)
    intake.take([{"event_no": "X920001", "company": code, "type": "dishonest_debtor", "occurred_on": "2026-11-30",
                  "title": "列入失信被执行人名单", "amount": "1000万", "severity": "high", "source": "credit_china"}],
                actor="court-feed")
    while feed.run_once(engine, "w1", names=["alerts"]):
        pass
    with engine.connect() as conn:
        loan = conn.exec_driver_sql("SELECT l.loan_no FROM e_loan l JOIN e_company c ON c.id = l.borrower "
                                    f"WHERE c.credit_code = '{code}' LIMIT 1").scalar()
    if loan is None:
        pytest.skip("this member has no loan in the demo bank")
    records.update("loan", records.find("loan", loan)["id"], {"overdue_days": 120, "classification": "substandard"},
                   actor="test")
    while feed.run_once(engine, "w1", names=["alerts"]):
        pass
    with engine.connect() as conn:
        flows = conn.execute(sa.select(instances.c.id).where(instances.c.flow == "major_risk_disposal",
                                                             instances.c.subject_key == code)).scalars().all()
        kinds = conn.execute(sa.select(alert_events.c.kind).join(alerts, alerts.c.id == alert_events.c.alert_id)
                             .where(alerts.c.subject_key == code, alerts.c.rule == "loan_overdue")).scalars().all()
    assert len(flows) == 1 and "flow_joined" in kinds


def test_an_update_whose_match_is_empty_changes_nothing(bank):
    """`match: {borrower: subject}` never means "every facility without a borrower"."""
    from dsl.kinds.record_action import WriteRecord
    from runtime.alerts.dispose import ActionScope, _update
    from runtime.flows.store import FlowError
    engine, records = bank

    class Expr:
        def __init__(self, value):
            self.value = value

        def __call__(self, scope):
            return self.value

    rule = type("Rule", (), {"name": "r"})()
    with engine.begin() as conn, pytest.raises(FlowError) as caught:
        _update(conn, records, rule, WriteRecord("facility", (("borrower", Expr(None)),), (("status", Expr("frozen")),)),
                ActionScope({}, "red"))
    assert "empty" in caught.value.message


def test_an_event_that_cannot_be_written_is_rejected_not_lost(bank, monkeypatch):
    """Every event of a batch is accepted, a duplicate or rejected: none goes missing, even when
    another writer keeps taking its number (the intake tries again, then says so)."""
    engine, records = bank
    code, _, _ = _member(engine)
    intake = EventIntake(engine, records=records)

    def racing(*args, **kwargs):
        raise sa.exc.IntegrityError("INSERT", {}, Exception("unique"))
    monkeypatch.setattr(records, "bulk_create", racing)
    out = intake.take([{"event_no": "X930001", "company": code, "type": "negative_news", "occurred_on": "2026-12-01",
                        "title": "新闻", "source": "news"}], actor="feed")
    assert out.accepted == [] and [r.key for r in out.rejected] == ["X930001"]
    assert "send it again" in out.rejected[0].problems[0].message
