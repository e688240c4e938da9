"""The bank the crash tests kill `banyan` in (tests/runtime/test_crash_points.py): the shipped
configs and the smallest demo bank with its people on one database, a local SMTP server, the real
CLI run in a subprocess — and the checks that must hold after any crash: the audit chain
verifies, every running flow instance's open tasks are exactly those its state holds (none lost,
none doubled), one outbox row per message, and at the SMTP server one distinct Message-ID per
recipient of each message."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from engine.flow import from_json
from runtime.alerts.tables import alerts
from runtime.audit import log as audit_log
from runtime.cli.main import main
from runtime.deploy.deployments import DeploymentRegistry
from runtime.events.intake import EventIntake
from runtime.flows.tables import instances, tasks
from runtime.jobs.changes import last_seq
from runtime.jobs.outbox_tables import notifications, outbox
from runtime.jobs.tables import feed_cursors
from runtime.records.service import Records

from .test_alerts_disposal import Inbox, smtp_server  # noqa: F401 - smtp_server: the crash tests' SMTP server

ROOT = Path(__file__).resolve().parents[2]
BANYAN = Path(sys.executable).parent / "banyan"
LEASE_SECONDS = 2            # a killed worker's claims are taken over after 2 s, not 5 min
KILLED = -signal.SIGKILL
CREDIT_FORM = {"credit_type": "new", "term_months": 12, "products": ["working_capital"],
               "purpose": "集团年度流动资金", "guarantee_mode": "credit", "amount": 3 * 10**8}
PROBE = """apiVersion: banyan/v1
kind: Entity
metadata:
  name: {name}
  label: {{zh: 探针, en: Probe}}
spec:
  key: code
  fields:
    - {{name: code, type: string, label: {{zh: 编号, en: Code}}, required: true, unique: true}}
    - {{name: amount, type: money, label: {{zh: 金额, en: Amount}}}}
"""


class Bank:
    """One database with the demo bank, and the real `banyan` pointed at it."""

    def __init__(self, url: str, engine: sa.Engine, tmp: Path, smtp: Inbox, smtp_port: int):
        self.url, self.engine, self.tmp, self.smtp = url, engine, tmp, smtp
        self.records = Records(engine)
        self.env = {**os.environ, "BANYAN_DATABASE_URL": url, "BANYAN_ACTOR": "ops",
                    "BANYAN_SECRET_FILE": str(tmp / "secret"), "BANYAN_LEASE_SECONDS": str(LEASE_SECONDS),
                    "BANYAN_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
                    "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
        for name in ("BANYAN_FAULT", "BANYAN_FAULT_MODE", "BANYAN_CONFIG"):
            self.env.pop(name, None)
        self.made = self.imports = 0
        self.took: dict[str, float] = {}          # the longest run of each command (`flow`, `deploy` …), in s
        self.members: list[str] = []

    # -- the real CLI ----------------------------------------------------------------------------
    def popen(self, args: list[str], fault: str | None = None) -> subprocess.Popen:
        env = {**self.env, **({"BANYAN_FAULT": fault} if fault else {})}
        return subprocess.Popen([str(BANYAN), *args], cwd=self.tmp, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def run(self, args: list[str], fault: str | None = None) -> subprocess.CompletedProcess:
        start = time.monotonic()
        proc = self.popen(args, fault)
        out, err = proc.communicate(timeout=300)
        took = time.monotonic() - start
        self.took[args[0]] = max(self.took.get(args[0], 0.0), took)
        return subprocess.CompletedProcess(args, proc.returncode, out, err)

    def ok(self, args: list[str]) -> subprocess.CompletedProcess:
        done = self.run(args)
        assert done.returncode == 0, f"banyan {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done

    def again(self, args: list[str]) -> str:
        """The same command run again, to the end, in this process (click's runner, no fault armed,
        without a new interpreter's start-up); its output."""
        done = CliRunner().invoke(main, args, env={k: v for k, v in self.env.items() if k.startswith("BANYAN_")})
        assert done.exit_code == 0, f"banyan {' '.join(args)}: {done.output}"
        return done.output

    def worker_after_lease(self) -> None:
        """`banyan worker --once` once a killed worker's leases have run out."""
        time.sleep(LEASE_SECONDS + 0.5)
        self.again(["worker", "--once"])

    # -- work to crash in ------------------------------------------------------------------------
    def fresh(self, prefix: str) -> str:
        self.made += 1
        return f"{prefix}{self.made}"

    def probe_bundle(self) -> tuple[Path, str]:
        """The shipped configs plus one new entity: (folder, entity name)."""
        name = self.fresh("probe_")
        folder = self.tmp / name
        before = list(self.tmp.glob("probe_*/entities/probe_*.yaml"))      # what was deployed before stays
        shutil.copytree(ROOT / "configs", folder)
        for older in before:
            shutil.copy(older, folder / "entities" / older.name)
        (folder / "entities" / f"{name}.yaml").write_text(PROBE.format(name=name), encoding="utf-8")
        return folder, name

    def person_file(self, rows: int = 1500) -> tuple[Path, str]:
        """A CSV of `rows` new natural persons (more than one import batch of 1,000): (file, number prefix)."""
        self.imports += 1
        prefix = f"P{50 + self.imports:02d}"
        path = self.tmp / f"persons_{prefix}.csv"
        lines = ["person_no,name,role"] + [f"{prefix}{i:04d},自然人{prefix}{i},shareholder" for i in range(rows)]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path, prefix

    def persons(self, prefix: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.text("SELECT COUNT(*) FROM e_person WHERE person_no LIKE :p"),
                                {"p": f"{prefix}%"}).scalar()

    def credit_application(self, flows) -> str:
        """A Shanghai group credit application waiting for the credit officer's document review."""
        view = flows.start("group_credit_approval", actor="rm_sh_01", subject="G0002", form=CREDIT_FORM)
        assert [t["assignee"] for t in view["tasks"]] == ["co_sh"]
        return view["id"]

    def listing(self, member: str) -> None:
        """A 失信被执行人 listing for `member` taken in (as the court feed's import takes it)."""
        outcome = EventIntake(self.engine, records=self.records).take(
            [{"event_no": f"X97{int(self.fresh('')):04d}", "company": member, "type": "dishonest_debtor",
              "occurred_on": "2026-11-30", "title": "列入失信被执行人名单", "amount": 35000000, "severity": "high",
              "source": "credit_china"}], actor="court-feed")
        assert outcome.accepted and not outcome.rejected, outcome.to_dict()

    def alert_of(self, member: str) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(alerts.c.id).where(alerts.c.rule == "dishonest_debtor_listed",
                                                                   alerts.c.subject_key == member)).scalars())

    def unsent(self, source: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(outbox).where(
                outbox.c.source == source, outbox.c.sent_at.is_(None))).scalar()

    def cursor(self, subscriber: str) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(feed_cursors.c.last_seq).where(feed_cursors.c.subscriber == subscriber)
                                ).scalar()

    def settled(self) -> bool:
        """Nothing left for the worker: every feed subscriber at the end, no unsent outbox row."""
        with self.engine.connect() as conn:
            top = last_seq(conn)
            behind = conn.execute(sa.select(sa.func.count()).select_from(feed_cursors)
                                  .where(feed_cursors.c.last_seq < top)).scalar()
            unsent = conn.execute(sa.select(sa.func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None),
                                                                                        outbox.c.attempts < 10)).scalar()
        return not behind and not unsent

    def live_version(self) -> int:
        current = DeploymentRegistry(self.engine, migrate=False).current()
        return current.version if current else 0


def members_without_alert(engine: sa.Engine, n: int) -> list[str]:
    """Shanghai borrowers with active facilities and no dishonest-debtor alert yet."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT DISTINCT c.credit_code FROM e_company c JOIN e_facility f ON f.borrower = c.id "
            "WHERE c.branch = 'sh_branch' AND f.status = 'active' ORDER BY c.credit_code").all()
        flagged = set(conn.execute(sa.select(alerts.c.subject_key).where(alerts.c.rule == "dishonest_debtor_listed"))
                      .scalars())
    found = [r[0] for r in rows if r[0] not in flagged][:n]
    assert len(found) == n, "the demo bank has enough Shanghai borrowers with active facilities"
    return found


# -- what holds after any crash -------------------------------------------------------------------
def assert_consistent(bank: Bank) -> None:
    """The audit chain verifies; every running instance's open task rows are exactly its state's
    tasks (none lost, none doubled) and no finished one keeps an open task; one outbox row per
    message; the tables are those of the live deployment; at the SMTP server, one distinct
    Message-ID per recipient of each e-mail message, and every e-mail marked sent arrived."""
    with bank.engine.connect() as conn:
        verified = audit_log.verify(conn)
        assert verified.ok, verified.problems
        open_rows: dict[str, set[str]] = defaultdict(set)
        for instance_id, task_id in conn.execute(sa.select(tasks.c.instance_id, tasks.c.id)
                                                 .where(tasks.c.status == "open")):
            open_rows[instance_id].add(task_id)
        for row in conn.execute(sa.select(instances.c.id, instances.c.status, instances.c.state)):
            held = set(from_json(json.loads(row.state)).tasks) if row.status == "running" else set()
            assert open_rows.pop(row.id, set()) == held, f"instance {row.id}: task rows and state differ"
        assert not open_rows, f"open tasks of no instance: {dict(open_rows)}"
        messages = conn.execute(sa.select(outbox.c.message_id, outbox.c.source, outbox.c.channel, outbox.c.recipient,
                                          outbox.c.kind, outbox.c.payload, outbox.c.sent_at)).all()
        in_app = conn.execute(sa.select(notifications.c.message_id)).scalars().all()
    what = [(m.source, m.channel, m.recipient, m.kind, m.payload) for m in messages]
    assert len(set(what)) == len(what), "an outbox message was written twice"
    assert len(set(in_app)) == len(in_app), "an in-app notification was written twice"
    assert_tables_match_live(bank)
    arrived: dict[str, set[str]] = defaultdict(set)
    for rcpt, message_id in bank.smtp.got:
        arrived[message_id].add(rcpt)
    emails = {f"<{m.message_id}@bank.example.cn>": m for m in messages if m.channel == "email"}
    assert set(arrived) <= set(emails), "the SMTP server got a message no outbox row holds"
    per_recipient: dict[tuple, set[str]] = defaultdict(set)
    for message_id, rcpts in arrived.items():
        m = emails[message_id]
        assert rcpts == {f"{m.recipient}@bank.example.cn"}, (message_id, rcpts)
        per_recipient[(m.source, m.kind, m.recipient, m.payload)].add(message_id)
    assert all(len(ids) == 1 for ids in per_recipient.values()), "a recipient got one message under two ids"
    for message_id, m in emails.items():
        if m.sent_at is not None:
            assert message_id in arrived, f"outbox message {m.message_id} is marked sent but never arrived"


def assert_tables_match_live(bank: Bank) -> None:
    """A deploy is all or nothing: the entity tables and their columns are exactly the live model's."""
    current = DeploymentRegistry(bank.engine, migrate=False).current()
    model = current.model if current else {}
    inspector = sa.inspect(bank.engine)
    tables = {t for t in inspector.get_table_names() if t.startswith("e_") and not t.endswith("_archive")}
    assert tables == {f"e_{name}" for name in model}, "the tables are not the live deployment's"
    for name, spec in model.items():
        columns = {c["name"] for c in inspector.get_columns(f"e_{name}")}
        assert columns == {"id", "version", "created_at", "updated_at", *(c.name for c in spec.columns)}, name
