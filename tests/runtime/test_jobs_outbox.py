"""The jobs room's outbox (SQLite and PostgreSQL): written in the caller's transaction, claimed and
committed before the send, delivered once by racing workers, retried with the same message id;
senders pass the id on (Message-ID, Idempotency-Key); in-app notifications and their unread
count; the 0006 revision moves the flow outbox across and back. And the done-when: an alert sends
a templated message in the recipient's language without the flows room."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import sqlalchemy as sa
from alembic import command

from dsl.compiler import compile_path, compile_texts
from runtime.auth.tables import people
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.jobs import notifications
from runtime.jobs.outbox import MAX_ATTEMPTS, Outbox, deployed_channels, enqueue
from runtime.jobs.outbox_tables import notifications as t_notifications
from runtime.jobs.outbox_tables import outbox
from runtime.jobs.senders import EmailSender, HttpSender, InAppSender
from runtime.storage.db import make_engine, writing
from runtime.storage.migrate import _config, upgrade

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
CHANNELS = """\
apiVersion: banyan/v1
kind: Channel
metadata: {{name: {name}}}
spec:
  type: {type}
{extra}  templates:
    alert_default:
      subject:
        zh: '【{{{{ alert.grade_label }}}}】{{{{ alert.label }}}}'
        en: '[{{{{ alert.grade_label }}}}] {{{{ alert.label }}}}'
      body:
        zh: '{{{{ recipient.display_name }}}}：{{{{ subject.name }}}} 触发预警'
        en: 'Dear {{{{ recipient.display_name }}}}: {{{{ subject.name }}}} raised an alert'
"""
ALERT = {"alert": {"label": {"zh": "贷款逾期", "en": "Loan overdue"}, "grade_label": {"zh": "红色", "en": "red"}},
         "subject": {"name": "Acme Ltd"}, "link": "/ui/alerts/7"}


def compiled_channels() -> dict:
    texts = {"in_app.yaml": CHANNELS.format(name="in_app", type="in_app", extra=""),
             "email.yaml": CHANNELS.format(name="email", type="email", extra="  sender: alerts@bank.test\n"),
             "hook.yaml": CHANNELS.format(name="hook", type="webhook",
                                          extra="  url: https://hooks.test/in\n  secret_env: HOOK_SECRET\n")}
    result = compile_texts(texts)
    assert result.ok, [d.message for d in result.diagnostics]
    return {n: d for (k, n), d in result.bundle.documents.items() if k == "Channel"}


class Clock:
    def __init__(self):
        self.now = datetime.now(timezone.utc)

    def __call__(self):
        return self.now


class Recorder:
    def __init__(self, fail_first: int = 0):
        self.sent, self.fail_first, self.lock = [], fail_first, threading.Lock()

    def send(self, message, engine):
        with self.lock:
            if self.fail_first:
                self.fail_first -= 1
                raise ConnectionError("gateway down")
            self.sent.append(message)


@pytest.fixture
def db(engine):
    upgrade(engine)
    with writing(engine) as conn:
        conn.execute(people.insert(), [
            {"name": "ann", "display_name": "Ann Lee", "email": "ann@bank.test", "language": "en"},
            {"name": "wang", "display_name": "王芳", "email": "wang@bank.test", "language": None}])
    return engine


def worker(engine, name="w1", clock=None, **senders) -> Outbox:
    channels = compiled_channels()
    return Outbox(engine, name, senders=senders, channels=lambda _e: channels, clock=clock or Clock())


def rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(outbox).order_by(outbox.c.id)).all()


def test_enqueue_in_a_rolled_back_transaction_sends_nothing(db):
    with pytest.raises(RuntimeError):
        with writing(db) as conn:
            enqueue(conn, "in_app", "ann", "alert_default", ALERT, source="alert:7")
            raise RuntimeError("the command failed")
    assert rows(db) == [] and worker(db).deliver() == 0
    with db.connect() as conn:
        assert notifications.unread_count(conn, "ann") == 0


def test_two_racing_workers_deliver_each_message_once(db_url, db):
    with writing(db) as conn:
        for i in range(12):
            enqueue(conn, "in_app", "ann", "alert_default", ALERT, source=f"alert:{i}")
            enqueue(conn, "hook", "ann", "alert_default", ALERT, source=f"alert:{i}")
    hook, channels = Recorder(), compiled_channels()
    engines = [make_engine(db_url) for _ in range(2)]
    workers = [Outbox(e, f"w{i}", senders={"webhook": hook}, channels=lambda _e: channels, clock=Clock(), batch=5)
               for i, e in enumerate(engines)]
    done = [0, 0]

    def run(i):
        while (n := workers[i].deliver()) or workers[i].claim():
            done[i] += n
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    ids = [m.message_id for m in hook.sent]
    assert sum(done) == 24 and len(ids) == len(set(ids)) == 12
    with db.connect() as conn:
        assert notifications.unread_count(conn, "ann") == 12
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar() == 0


def test_the_send_happens_after_the_claim_commits(db):
    with writing(db) as conn:
        message_id = enqueue(conn, "hook", "ann", "alert_default", ALERT)
    seen = []

    class Peeking:
        def send(self, message, engine):
            with engine.connect() as other:           # another connection sees the committed claim
                seen.append(other.execute(sa.select(outbox.c.claimed_by, outbox.c.sent_at)
                                          .where(outbox.c.message_id == message.message_id)).one())
    assert worker(db, "peeker", webhook=Peeking()).deliver() == 1
    assert seen == [("peeker", None)]
    assert rows(db)[0].message_id == message_id and rows(db)[0].sent_at is not None


def test_a_failing_sender_is_retried_later_with_the_same_message_id(db):
    clock = Clock()
    with writing(db) as conn:
        message_id = enqueue(conn, "hook", "wang", "alert_default", ALERT, at=clock.now)
    hook = Recorder(fail_first=1)
    assert worker(db, "a", clock, webhook=hook).deliver() == 0
    (row,) = rows(db)
    assert (row.attempts, row.sent_at, row.claimed_by) == (1, None, None) and "gateway down" in row.last_error
    assert worker(db, "b", clock, webhook=hook).deliver() == 0          # backing off: not due yet
    clock.now += timedelta(minutes=2)
    assert worker(db, "b", clock, webhook=hook).deliver() == 1
    (row,) = rows(db)
    assert [m.message_id for m in hook.sent] == [message_id] and row.last_error is None and row.sent_at


def test_a_missing_template_value_is_a_clear_recorded_error(db):
    with writing(db) as conn:
        enqueue(conn, "in_app", "ann", "alert_default", {"alert": {"label": "x", "grade_label": "red"}})
    assert worker(db).deliver() == 0
    (row,) = rows(db)
    assert row.attempts == 1 and row.sent_at is None
    assert row.last_error.startswith("template `alert_default` of channel `in_app` (en)")
    assert "the message carries no value for `subject`" in row.last_error


def test_an_unknown_channel_or_missing_address_is_recorded(db):
    with writing(db) as conn:
        enqueue(conn, "pager", "ann", "alert_default", ALERT)
        conn.execute(people.insert().values(name="noaddr", display_name="No Address"))
        enqueue(conn, "email", "noaddr", "alert_default", ALERT)
    assert worker(db).deliver() == 0
    pager, email = rows(db)
    assert pager.attempts == 1 and "channel `pager` is not in the deployed bundle" in pager.last_error
    assert email.attempts == MAX_ATTEMPTS and email.last_error == \
        "gave up: noaddr has no e-mail address in the people directory"


class FakeSMTP:
    sent: list = []

    def __init__(self, host, port, timeout):
        self.host, self.port, self.calls = host, port, []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self):
        self.calls.append("starttls")

    def login(self, user, password):
        self.calls.append(("login", user, password))

    def send_message(self, mail):
        FakeSMTP.sent.append((self.host, self.port, self.calls, mail))


def test_the_email_sender_sets_message_id_and_speaks_smtp(db):
    FakeSMTP.sent = []
    with writing(db) as conn:
        message_id = enqueue(conn, "email", "ann", "alert_default", ALERT)
    mail = EmailSender("smtp://relay%40bank:s3cret@mail.bank.test:587?starttls=1", smtp=FakeSMTP)
    assert worker(db, email=mail).deliver() == 1
    ((host, port, calls, sent),) = FakeSMTP.sent
    assert (host, port, calls) == ("mail.bank.test", 587, ["starttls", ("login", "relay@bank", "s3cret")])
    assert sent["Message-ID"] == f"<{message_id}@bank.test>" and sent["X-Banyan-Message-Id"] == message_id
    assert sent["Subject"] == "[red] Loan overdue" and sent["To"] == "Ann Lee <ann@bank.test>"
    assert sent["From"] == "alerts@bank.test" and "Dear Ann Lee: Acme Ltd raised an alert" in sent.get_content()


def test_the_webhook_sender_sends_the_id_headers_and_a_signature(db, monkeypatch):
    monkeypatch.setenv("HOOK_SECRET", "k")
    got, answers = [], [500, 200]

    def handler(request: httpx.Request) -> httpx.Response:
        got.append(request)
        return httpx.Response(answers.pop(0))
    clock = Clock()
    with writing(db) as conn:
        message_id = enqueue(conn, "hook", "wang", "alert_default", ALERT, source="alert:7", at=clock.now)
    hook = HttpSender("webhook", transport=httpx.MockTransport(handler))
    assert worker(db, clock=clock, webhook=hook).deliver() == 0          # a 500: tried again later
    assert "hooks.test answered 500" in rows(db)[0].last_error
    clock.now += timedelta(minutes=5)
    assert worker(db, clock=clock, webhook=hook).deliver() == 1
    first, second = got
    for r in got:
        assert r.headers["Idempotency-Key"] == r.headers["X-Banyan-Message-Id"] == message_id
        assert str(r.url) == "https://hooks.test/in" and r.headers["X-Banyan-Signature"].startswith("sha256=")
    body = json.loads(second.content)
    assert body["message_id"] == message_id and body["source"] == "alert:7" and body["text"] == "王芳：Acme Ltd 触发预警"


def test_a_refusing_webhook_is_given_up(db):
    hook = HttpSender("webhook", transport=httpx.MockTransport(lambda r: httpx.Response(422)))
    with writing(db) as conn:
        enqueue(conn, "hook", "ann", "alert_default", ALERT)
    assert worker(db, webhook=hook).deliver() == 0
    assert rows(db)[0].attempts == MAX_ATTEMPTS and rows(db)[0].last_error == "gave up: hooks.test answered 422"


def test_in_app_notifications_are_written_once_with_an_unread_count(db):
    with writing(db) as conn:
        for i in range(3):
            enqueue(conn, "in_app", "ann", "alert_default", ALERT, source=f"alert:{i}")
    assert worker(db).deliver() == 3
    msg = rows(db)[0]
    again = InAppSender()                                   # a crash before `sent` was marked: sent again
    outgoing = type("M", (), {"message_id": msg.message_id, "recipient": type("R", (), {"name": "ann"}), "kind": "k",
                              "title": "t", "body": "b", "link": None, "source": None, "at": T0.replace(tzinfo=None)})
    again.send(outgoing, db)
    at = T0.replace(tzinfo=None)
    with writing(db) as conn:
        assert notifications.unread_count(conn, "ann") == 3
        listed = notifications.listing(conn, "ann")
        assert [n.title for n in listed] == ["[red] Loan overdue"] * 3 and listed[0].link == "/ui/alerts/7"
        assert notifications.mark_read(conn, "wang", [listed[0].id], at) == 0     # not hers
        assert notifications.mark_read(conn, "ann", [listed[0].id], at) == 1
        assert notifications.unread_count(conn, "ann") == 2
        assert len(notifications.listing(conn, "ann", unread_only=True)) == 2
        assert notifications.mark_read(conn, "ann", None, at) == 2 and notifications.unread_count(conn, "ann") == 0


def test_alerts_send_a_templated_message_without_touching_flows(db):
    """The done-when: the shipped channels deployed, an alert's message for two people, rendered
    each in their own language, through in_app and e-mail; the jobs room never imports flows."""
    bundle = compile_path("configs")
    assert bundle.ok
    DeploymentRegistry(db).deploy(release_of(bundle.bundle), author="test", message="alerts")
    payload = {"alert": {"label": {"zh": "贷款逾期", "en": "Loan overdue"}, "grade_label": {"zh": "红色", "en": "red"},
                         "opened_at": "2026-03-02 09:00", "evidence": "逾期 95 天", "respond_by": "2026-03-03"},
               "subject": {"name": "Acme Ltd"}, "link": "/ui/alerts/7"}
    with writing(db) as conn:
        for user in ("ann", "wang"):
            for channel in ("in_app", "email"):
                enqueue(conn, channel, user, "alert_default", payload, source="alert:7")
    FakeSMTP.sent = []
    out = Outbox(db, "alerts", senders={"email": EmailSender("smtp://mail.bank.test", smtp=FakeSMTP)})
    assert set(deployed_channels(db)) == {"in_app", "email", "sms"}
    assert out.deliver() == 4
    with db.connect() as conn:
        got = {r.user_name: r.title for r in conn.execute(sa.select(t_notifications))}
    assert got == {"ann": "[red] Acme Ltd: Loan overdue", "wang": "【红色预警】Acme Ltd：贷款逾期"}
    mails = {m["To"]: m for *_, m in FakeSMTP.sent}
    assert mails["Ann Lee <ann@bank.test>"]["Subject"] == "[red alert] Acme Ltd: Loan overdue"
    assert "王芳，您好：Acme Ltd 于 2026-03-02 09:00 触发「贷款逾期」" in mails["王芳 <wang@bank.test>"].get_content()
    probe = ("import sys, runtime.jobs.outbox, runtime.jobs.senders, runtime.jobs.notifications; "
             "print(sorted(m for m in sys.modules if m.startswith('runtime.flows')))")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "[]\n"


def _migrate(engine, direction: str, revision: str) -> None:
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, direction)(cfg, revision)


def test_revision_0006_moves_the_flow_outbox_across_and_back(engine):
    _migrate(engine, "upgrade", "0005_jobs")
    at = datetime(2026, 3, 2, 1, 0)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO banyan_flow_instances (id, flow, deployment_version, subject_entity, "
                             "subject_key, initiator, state, version, status, outcome, started_at, updated_at) "
                             "VALUES ('i1', 'credit', 1, 'group', 'G1', 'rm', '{}', 3, 'finished', 'approved', :t, :t)"),
                     {"t": at})
        for i, (delivered, template) in enumerate(((None, "urge"), (at, "cc")), start=1):
            conn.execute(sa.text("INSERT INTO banyan_flow_outbox (id, instance_id, channel, recipient, template, "
                                 "payload, created_at, attempts, delivered_at, error) VALUES (:i, 'i1', 'in_app', 'm1', "
                                 ":k, :p, :t, 2, :d, 'down')"),
                         {"i": i, "k": template, "t": at, "d": delivered,
                          "p": json.dumps({"node": "review", "task": "i1/1", "message": "快", "by": "rm"})})
        conn.execute(sa.text("INSERT INTO banyan_flow_messages (outbox_id, user_name, instance_id, template, text, "
                             "created_at, read_at) VALUES (2, 'm1', 'i1', 'cc', '[抄送 cc] credit', :t, NULL)"), {"t": at})
    _migrate(engine, "upgrade", "0006_outbox")
    with engine.connect() as conn:
        (moved,) = conn.execute(sa.select(outbox)).all()
        (note,) = conn.execute(sa.select(t_notifications)).all()
        tables = sa.inspect(conn).get_table_names()
    assert (moved.kind, moved.source, moved.attempts, moved.last_error) == ("urge", "flow:i1", 2, "down")
    assert json.loads(moved.payload)["task"] == {"id": "i1/1", "node": "review", "label": "review", "deadline": "",
                                                 "assignee": ""}
    assert (note.user_name, note.kind, note.body, note.source, note.read_at) == ("m1", "cc", "[抄送 cc] credit",
                                                                                   "flow:i1", None)
    assert "banyan_flow_outbox" not in tables and "banyan_flow_deliveries" not in tables
    with engine.begin() as conn:
        enqueue(conn, "in_app", "ann", "alert_default", ALERT, source="alert:1")     # cannot go back: dropped
    _migrate(engine, "downgrade", "0005_jobs")
    with engine.connect() as conn:
        back = conn.execute(sa.text("SELECT instance_id, template, payload, attempts FROM banyan_flow_outbox")).all()
        msgs = conn.execute(sa.text("SELECT user_name, instance_id, text FROM banyan_flow_messages")).all()
    assert [(i, k, a) for i, k, _p, a in back] == [("i1", "urge", 2)]
    assert json.loads(back[0][2]) == {"node": "review", "task": "i1/1", "message": "快", "by": "rm"}
    assert [tuple(m) for m in msgs] == [("m1", "i1", "[抄送 cc] credit")]
    upgrade(engine)


def test_the_sms_file_sink_writes_one_json_line_per_message(tmp_path):
    """BANYAN_SMS_URL=file:///…: a development gateway that keeps each text, with its message id."""
    from types import SimpleNamespace

    from runtime.jobs.senders import Outgoing, Recipient
    sink = tmp_path / "sms.jsonl"
    sms = HttpSender("sms", url=f"file://{sink}")
    channel = SimpleNamespace(name="sms", type="sms", sender="【银行】", max_length=70, url=None, secret_env=None)
    for i in range(2):
        sms.send(Outgoing(f"m{i}", channel, "alert_default", Recipient("wang", "王芳", phone="13800000001"),
                          "预警", f"第{i}条", None, "alert:1", "zh"), None)
    lines = [json.loads(x) for x in sink.read_text(encoding="utf-8").splitlines()]
    assert [(x["message_id"], x["to"], x["text"]) for x in lines] == [("m0", "13800000001", "【银行】第0条"),
                                                                      ("m1", "13800000001", "【银行】第1条")]
