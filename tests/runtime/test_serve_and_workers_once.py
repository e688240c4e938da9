"""Issue 17: the documented deployment — two `banyan serve` processes (each running the jobs beside
its server) and two `banyan worker` processes, real subprocesses on one database, SQLite or PostgreSQL — handles every
timer, alert and message once. The demo bank is seeded and nothing of it is heard before they
start, so the four race over the whole change feed (alert rules, tiering, reviews), the flow timers
already due, the due work and the outbox; while they run, 失信被执行人 listings arrive through one
server's `POST /events` and through `banyan events import`.

Afterwards: every due timer fired once; one alert per (rule, subject); each flow a rule or a
tiering starts on its own (disposals, reviews) started once per subject; each listed member has its
red alert, its disposal and no active facility left; one outbox row per (alert, recipient, channel),
each in-app message stored once and each e-mail received once at the SMTP server under its own
Message-ID. Nothing is killed here (test_worker_kill_loop.py kills, and there accepts a resend that
carries the same Message-ID), so a message arriving twice, even under the same id, is a double.
The audit chain verifies and each server stops with exit 0 on SIGTERM.

And `banyan worker --once` is one whole pass: more than a batch of due timers and messages, all done."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import sqlalchemy as sa

from runtime.alerts.tables import alerts
from runtime.audit import log as audit
from runtime.auth.users import UserStore
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.flows.service import FlowService
from runtime.flows.tables import events, instances, timers
from runtime.jobs.outbox_tables import notifications, outbox
from runtime.jobs.tables import db_now, due
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

from .flow_bank import Clock, make_bank
from .test_alerts_disposal import smtp  # noqa: F401 - the local SMTP server fixture
from .test_flow_durable import start
from .test_flow_service import CREDIT
from .test_serve_workers import free_port, wait_ready

ROOT = Path(__file__).resolve().parents[2]
BANYAN = Path(sys.executable).parent / "banyan"
APPLICATIONS = 8                  # credit applications started in March 2026: 3 timers each, long due
MEMBERS = 4                       # members listed as dishonest debtors while the processes run
SETTLE_TIMEOUT = 90


def _seed(engine) -> Records:
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    seed_demo(records, scale=0.01, seed=42, transactions=0, actor="test")
    from examples.demo_bank.users import seed_demo_users
    from runtime.auth.org import OrgTree
    seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
    return records


def _members(engine) -> list[str]:
    """Shanghai borrowers with active facilities and no listing yet."""
    with engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT DISTINCT c.credit_code FROM e_company c JOIN e_facility f ON f.borrower = c.id "
            "WHERE c.branch = 'sh_branch' AND f.status = 'active' AND NOT EXISTS (SELECT 1 FROM e_external_event e "
            "WHERE e.company = c.id AND e.type = 'dishonest_debtor') ORDER BY c.credit_code").scalars().all()
    assert len(found) >= MEMBERS, "the demo bank has enough Shanghai borrowers with active facilities"
    return list(found[:MEMBERS])


def _listing(number: int, code: str) -> dict:
    return {"event_no": f"X97{number:04d}", "company": code, "type": "dishonest_debtor", "occurred_on": "2026-11-30",
            "title": "列入失信被执行人名单", "amount": "3500万", "severity": "high", "source": "credit_china"}


def _left(engine) -> dict[str, int]:
    """What is still waiting: feed subscribers behind, unsent messages, due timers, due work."""
    with engine.connect() as conn:
        last = conn.exec_driver_sql("SELECT COALESCE(MAX(seq), 0) FROM banyan_changes").scalar()
        now = db_now()
        return {
            "feed": conn.execute(sa.text("SELECT COUNT(*) FROM banyan_feed_cursors WHERE last_seq < :s"),
                                 {"s": last}).scalar(),
            "outbox": conn.execute(sa.select(sa.func.count()).select_from(outbox)
                                   .where(outbox.c.sent_at.is_(None))).scalar(),
            "timers": conn.execute(sa.select(sa.func.count()).select_from(timers)
                                   .where(timers.c.due_at <= now)).scalar(),
            "due": conn.execute(sa.select(sa.func.count()).select_from(due).where(due.c.due_at <= now)).scalar()}


def _work_by_process(logs: list[Path]) -> list[Counter]:
    """Per process, the work its jobs reported (`job outbox: 37` lines of the JSON log)."""
    out = []
    for path in logs:
        done: Counter = Counter()
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                message = json.loads(line).get("message", "")
            except ValueError:
                continue
            name, _, count = message.removeprefix("job ").partition(": ")
            if message.startswith("job ") and count.isdigit():
                done[name] += int(count)
        out.append(done)
    return out


def test_two_servers_and_two_workers_handle_every_timer_alert_and_message_once(db_url, tmp_path, smtp):  # noqa: F811
    engine = make_engine(db_url)
    _seed(engine)
    members = _members(engine)
    started = {FlowService(engine, clock=Clock()).start("group_credit_approval", actor="rm_sh_01", subject="G0002",
                                                        form={"amount": 10**8, **CREDIT})["id"]
               for _ in range(APPLICATIONS)}
    assert _left(engine)["timers"] == 3 * APPLICATIONS
    token = UserStore(engine).create_token("admin", "feed")
    court = tmp_path / "court.csv"
    court.write_text("event_no,company,type,occurred_on,title,amount,severity,source\n" + "".join(
        f"X97{i:04d},{code},dishonest_debtor,2026-11-30,列入失信被执行人名单,35000000,high,credit_china\n"
        for i, code in enumerate(members) if i % 2), encoding="utf-8")

    env = {**os.environ, "BANYAN_DATABASE_URL": db_url, "BANYAN_SECRET_FILE": str(tmp_path / "secret"),
           "BANYAN_LOG_FORMAT": "json", "BANYAN_ACTOR": "court-feed", "BANYAN_FEED_EVERY": "0.5",
           "BANYAN_DUE_EVERY": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    logs = [tmp_path / f"process-{i}.log" for i in range(4)]
    ports = [free_port(), free_port()]
    procs: list[subprocess.Popen] = []
    for i, args in enumerate([["serve", "--port", str(ports[0]), "--graceful-timeout", "5"],
                              ["serve", "--port", str(ports[1]), "--graceful-timeout", "5"],
                              ["worker", "--interval", "0.5"], ["worker", "--interval", "0.5"]]):
        with logs[i].open("w") as log:
            procs.append(subprocess.Popen([str(BANYAN), *args], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                          stderr=log))
    servers, workers = procs[:2], procs[2:]
    codes = []
    try:
        for port, server in zip(ports, servers):
            wait_ready(f"http://127.0.0.1:{port}", server)
        behind_at_events = _left(engine)
        answer = httpx.post(f"http://127.0.0.1:{ports[0]}/events", timeout=30,
                            json=[_listing(i, code) for i, code in enumerate(members) if not i % 2],
                            headers={"Authorization": f"Bearer {token}", "X-Banyan-Actor": "court-feed"})
        assert answer.status_code == 200 and answer.json()["accepted"] == (MEMBERS + 1) // 2, answer.text
        imported = subprocess.run([str(BANYAN), "events", "import", str(court)], cwd=tmp_path, env=env,
                                  capture_output=True, text=True, timeout=120)
        assert imported.returncode == 0, imported.stdout + imported.stderr
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while time.monotonic() < deadline and any(_left(engine).values()):
            time.sleep(0.5)
        time.sleep(2)                                 # a racing double would land now, if ever
        left = _left(engine)
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)
            codes.append(server.returncode)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT if proc in workers else signal.SIGKILL)
        for proc in workers:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    assert any(behind_at_events.values()), "the events should arrive while the processes still have work"
    assert not any(left.values()), f"still waiting after {SETTLE_TIMEOUT} s: {left}"
    assert codes == [0, 0]
    work = _work_by_process(logs)
    print("work per process:", [dict(w) for w in work])
    assert sum(1 for w in work if w["feed"] or w["outbox"]) >= 2, f"the processes should share the work: {work}"

    with engine.connect() as conn:
        fired = [tuple(r) for r in conn.execute(sa.select(events.c.instance_id, events.c.data)
                                                .where(events.c.kind == "timer")).all()]
        opened = conn.execute(sa.select(alerts.c.rule, alerts.c.subject_entity, alerts.c.subject_id,
                                        alerts.c.subject_key, alerts.c.id)).all()
        every_flow = conn.execute(sa.select(instances.c.id, instances.c.flow, instances.c.subject_key)).all()
        rows = conn.execute(sa.select(outbox.c.source, outbox.c.recipient, outbox.c.channel, outbox.c.kind,
                                      outbox.c.message_id)).all()
        stored = conn.execute(sa.select(notifications.c.message_id)).scalars().all()
        active = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM e_facility f JOIN e_company c ON c.id = f.borrower "
            f"WHERE c.credit_code IN ({', '.join(repr(m) for m in members)}) AND f.status = 'active'").scalar()

    # timers: each due one fired once, on every application
    assert len(fired) >= 3 * APPLICATIONS and len(set(fired)) == len(fired), "a timer fired twice"
    assert {instance for instance, _ in fired} >= started
    # alerts: one per (rule, subject); every member listed has its red one, its disposal, no active facility
    per_subject = Counter((rule, entity, subject) for rule, entity, subject, _, _ in opened)
    assert len(opened) > MEMBERS and max(per_subject.values()) == 1, \
        [k for k, n in per_subject.items() if n > 1]
    listed = {key for rule, _, _, key, _ in opened if rule == "dishonest_debtor_listed"}
    assert set(members) <= listed
    flows = Counter((flow, key) for i, flow, key in every_flow if i not in started)      # a rule's, a tiering's
    assert flows and max(flows.values()) == 1, [k for k, n in flows.items() if n > 1]
    assert {key for (flow, key) in flows if flow == "major_risk_disposal"} >= set(members)
    assert active == 0
    # messages: one row per (alert, recipient, channel); in-app stored once; each e-mail received once
    alert_rows = [(s, r, c) for s, r, c, _, _ in rows if s and s.startswith("alert:")]
    assert {f"alert:{i}" for *_, i in opened} >= {s for s, _, _ in alert_rows}
    assert len(alert_rows) == len(set(alert_rows)), "an alert's message was written twice"
    assert sorted(stored) == sorted(m for *_, c, _, m in rows if c == "in_app")
    mails = {f"<{m}@bank.example.cn>" for _, _, c, _, m in rows if c == "email"}
    assert len(mails) > MEMBERS
    received = Counter(mid for _, mid in smtp.got)
    assert set(received) == mails
    assert [mid for mid, n in received.items() if n > 1] == [], "an e-mail arrived twice"

    with engine.connect() as conn:
        assert audit.verify(conn).problems == []
    engine.dispose()


def test_worker_once_is_one_whole_pass_over_due_work(db_url, tmp_path):
    """`banyan worker --once` (issue 17: it fired one batch of 100, contrary to its help): 120 timers
    long due and the messages their firing writes, more than one batch of each, all done by one run."""
    engine = make_engine(db_url)
    flows = make_bank(engine, Clock())
    started = {start(flows, amount=10**8)["id"] for _ in range(40)}
    assert _left(engine)["timers"] == 120
    env = {**os.environ, "BANYAN_DATABASE_URL": db_url, "BANYAN_SECRET_FILE": str(tmp_path / "secret"),
           "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("BANYAN_SMTP_URL", None)                  # e-mail only logged
    run = subprocess.run([str(BANYAN), "worker", "--once"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    with engine.connect() as conn:
        fired = conn.execute(sa.select(events.c.instance_id).where(events.c.kind == "timer")).scalars().all()
        sent = conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar()
    assert _left(engine) == {"feed": 0, "outbox": 0, "timers": 0, "due": 0}
    assert len(fired) == 120 and set(fired) == started and sent > 100
    assert "flow-timers 120," in run.stdout and f"outbox {sent}," in run.stdout, run.stdout
    engine.dispose()
