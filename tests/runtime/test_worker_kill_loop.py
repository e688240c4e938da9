"""The real worker killed with SIGKILL at random moments (issue 13, "whatever crashes"), on SQLite
and PostgreSQL: 失信 listings for several members are imported, then `banyan worker` runs and is
killed -9 again and again at random delays while it evaluates the change feed, freezes limits,
starts disposal flows and sends the alerts' mail to a local SMTP server; then it runs to the end.
Afterwards: one red alert per member, one disposal flow per member, one outbox row per
(alert, recipient, channel), exactly one distinct Message-ID per recipient of each alert's e-mail
at the SMTP server (a resend after a kill carries the same id), and the audit chain verifies."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa

from runtime.alerts.tables import alerts
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.flows.tables import instances
from runtime.jobs.outbox_tables import outbox
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

from .crash_bank import members_without_alert
from .test_alerts_disposal import smtp  # noqa: F401 - the local SMTP server fixture

ROOT = Path(__file__).resolve().parents[2]
BANYAN = Path(sys.executable).parent / "banyan"
KILLS = 8
MEMBERS = 4


def _members(engine) -> list[str]:
    return members_without_alert(engine, MEMBERS)


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(BANYAN), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def _settled(engine) -> bool:
    """Nothing left for the worker: every feed subscriber at the end, no unsent outbox row."""
    with engine.connect() as conn:
        last = conn.exec_driver_sql("SELECT COALESCE(MAX(seq), 0) FROM banyan_changes").scalar()
        behind = conn.execute(sa.text("SELECT COUNT(*) FROM banyan_feed_cursors WHERE last_seq < :s"),
                              {"s": last}).scalar()
        unsent = conn.execute(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))).scalar()
    return not behind and not unsent


def test_the_worker_killed_at_random_leaves_one_of_everything(db_url, tmp_path, smtp):  # noqa: F811
    engine = make_engine(db_url)
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    seed_demo(records, scale=0.01, seed=42, transactions=0, actor="test")
    from examples.demo_bank.users import seed_demo_users
    from runtime.auth.org import OrgTree
    from runtime.auth.users import UserStore
    seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
    env = {**os.environ, "BANYAN_DATABASE_URL": db_url, "BANYAN_ACTOR": "court-feed",
           "BANYAN_SECRET_FILE": str(tmp_path / "secret"),
           "BANYAN_LEASE_SECONDS": "2"}            # a killed worker's claims are taken over after 2 s, not 5 min
    assert _run(["worker", "--once"], env).returncode == 0           # the seed's own changes heard first
    while not _settled(engine):
        assert _run(["worker", "--once"], env).returncode == 0
    members = _members(engine)
    feed_file = tmp_path / "court.csv"
    feed_file.write_text("event_no,company,type,occurred_on,title,amount,severity,source\n" + "".join(
        f"X95000{i},{code},dishonest_debtor,2026-11-30,列入失信被执行人名单,35000000,high,credit_china\n"
        for i, code in enumerate(members)), encoding="utf-8")
    assert _run(["events", "import", str(feed_file)], env).returncode == 0

    rng = random.Random(20261206)
    interrupted = 0
    for _ in range(KILLS):                        # the real worker, killed -9 mid-work
        proc = subprocess.Popen([str(BANYAN), "worker", "--interval", "0.1"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 4.0))         # it takes about a second to start
        interrupted += not _settled(engine)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert interrupted >= 2, "the kills should land while the worker still has work"
    for _ in range(30):                           # then to the end (once the killed worker's leases ran out)
        if _settled(engine):
            break
        time.sleep(2)
        assert _run(["worker", "--once"], env).returncode == 0
    assert _settled(engine)

    with engine.connect() as conn:
        red = conn.execute(sa.select(alerts.c.id, alerts.c.subject_key).where(
            alerts.c.rule == "dishonest_debtor_listed", alerts.c.subject_key.in_(members))).all()
        assert sorted(k for _, k in red) == sorted(members)                 # one alert per member
        flows = conn.execute(sa.select(instances.c.subject_key, sa.func.count()).where(
            instances.c.flow == "major_risk_disposal", instances.c.subject_key.in_(members))
            .group_by(instances.c.subject_key)).all()
        assert dict(flows) == {m: 1 for m in members}                       # one disposal flow per member
        rows = conn.execute(sa.select(outbox.c.source, outbox.c.recipient, outbox.c.channel, outbox.c.message_id)
                            .where(outbox.c.source.in_([f"alert:{i}" for i, _ in red]))).all()
        frozen = conn.exec_driver_sql(
            "SELECT COUNT(*) FROM e_facility f JOIN e_company c ON c.id = f.borrower "
            f"WHERE c.credit_code IN ({', '.join(repr(m) for m in members)}) AND f.status = 'active'").scalar()
    assert frozen == 0                                                      # every member's limits frozen
    assert len(rows) == len({(s, r, c) for s, r, c, _ in rows})          # one row per (alert, recipient, channel)
    mails = [(r, m) for _, r, c, m in rows if c == "email"]
    assert mails
    seen: dict[str, set[str]] = defaultdict(set)
    for rcpt, mid in smtp.got:
        seen[rcpt].add(mid)
    for recipient, message_id in mails:                                     # it arrived, once in distinct ids
        address = f"{recipient}@bank.example.cn"
        assert f"<{message_id}@bank.example.cn>" in seen[address]
    ids = {f"<{m}@bank.example.cn>" for _, m in mails}
    got = [(r, mid) for r, mid in smtp.got if mid in ids]
    assert len({mid for _, mid in got}) == len(mails)                      # one distinct message per outbox row
    verified = _run(["audit", "verify"], env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    engine.dispose()
