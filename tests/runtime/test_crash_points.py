"""The real `banyan` killed inside its commands (issue 17, "Crashes and concurrency"), on SQLite and
PostgreSQL: at every step boundary that runtime/storage/faults.py lists — a deploy, a records
import, a flow action, the alert worker, the outbox — the command runs with that point armed
(`BANYAN_FAULT`) and dies there by SIGKILL; then the database must be as if the command never
ran (the audit chain verifies, nothing of it is half there, no task lost or doubled, one outbox
row per message, one distinct Message-ID per recipient at the SMTP server), and the same command
run again must finish the work, once. Then each of deploy, import and a flow action is killed -9
at random moments with the same checks (tests/runtime/test_worker_kill_loop.py does the same to
the worker)."""
from __future__ import annotations

import ast
import json
import random
import time
from contextlib import nullcontext
from typing import Callable

import pytest
import sqlalchemy as sa

from examples.demo_bank.users import seed_demo_users
from runtime.alerts import worker as alerts_worker
from runtime.audit import log as audit_log
from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.flows.service import FlowService
from runtime.flows.tables import events, instances, requests
from runtime.jobs import feed
from runtime.jobs.outbox_tables import outbox
from runtime.records.service import Records
from runtime.storage import faults
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade

from .conftest import fresh_pg_schema
from .crash_bank import KILLED, ROOT, Bank, assert_consistent, members_without_alert, smtp_server
from .records_bundle import deploy

REVIEW = json.dumps({"review_opinion": "资料齐全"}, ensure_ascii=False)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def bank(request, tmp_path_factory):
    """The demo bank (the shipped configs, scale 0.01, the demo people) with its seed's own work done
    (`banyan worker --once`: its alerts' mail delivered), and the real CLI pointed at it."""
    tmp = tmp_path_factory.mktemp(f"crash-{request.param}")
    database = fresh_pg_schema() if request.param == "postgresql" else nullcontext(f"sqlite:///{tmp / 'bank.db'}")
    controller, box, port = smtp_server()
    mp = pytest.MonkeyPatch()
    mp.setenv("BANYAN_SECRET_FILE", str(tmp / "secret"))
    try:
        with database as url:
            engine = make_engine(url)
            upgrade(engine)
            ensure_deployed(engine, str(ROOT / "configs"), "test")
            records = Records(engine)
            seed_demo(records, scale=0.01, seed=42, transactions=0, actor="test")
            seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
            found = Bank(url, engine, tmp, box, port)
            found.again(["worker", "--once"])
            assert found.settled()
            found.members = members_without_alert(engine, 3)
            assert_consistent(found)
            yield found
            engine.dispose()
    finally:
        mp.undo()
        controller.stop()


def _killed(done) -> None:
    assert done.returncode == KILLED, f"the command was not killed at its fault point: {done.stdout}\n{done.stderr}"
    assert "fault injected at" in done.stderr


# -- deploy ------------------------------------------------------------------------------------------
def _has_table(bank: Bank, name: str) -> bool:
    return sa.inspect(bank.engine).has_table(f"e_{name}")


def crash_deploy(bank: Bank, point: str) -> None:
    folder, name = bank.probe_bundle()
    before = bank.live_version()
    _killed(bank.run(["deploy", str(folder), "-m", point], fault=point))
    assert bank.live_version() == before and not _has_table(bank, name)            # nothing of it
    assert_consistent(bank)
    bank.again(["deploy", str(folder), "-m", point])
    assert bank.live_version() == before + 1 and _has_table(bank, name)            # all of it, once
    assert_consistent(bank)


# -- records import ----------------------------------------------------------------------------------
def crash_import(bank: Bank, point: str) -> None:
    path, prefix = bank.person_file()                     # 1,500 rows: two batches
    _killed(bank.run(["import", "person", str(path)], fault=point))
    assert bank.persons(prefix) == 0
    assert_consistent(bank)
    bank.again(["import", "person", str(path)])
    assert bank.persons(prefix) == 1500
    assert_consistent(bank)


# -- a flow action -----------------------------------------------------------------------------------
def _instance(bank: Bank, instance_id: str) -> tuple:
    with bank.engine.connect() as conn:
        version = conn.execute(sa.select(instances.c.version).where(instances.c.id == instance_id)).scalar()
        n_events = conn.execute(sa.select(sa.func.count()).select_from(events)
                                .where(events.c.instance_id == instance_id)).scalar()
        n_messages = conn.execute(sa.select(sa.func.count()).select_from(outbox)
                                  .where(outbox.c.source == f"flow:{instance_id}")).scalar()
        n_requests = conn.execute(sa.select(sa.func.count()).select_from(requests)
                                  .where(requests.c.instance_id == instance_id)).scalar()
    return version, n_events, n_messages, n_requests


def crash_flow_action(bank: Bank, point: str) -> None:
    flows = FlowService(bank.engine)
    instance_id = bank.credit_application(flows)
    task = flows.instance(instance_id, with_timeline=False)["tasks"][0]["id"]
    before = _instance(bank, instance_id)
    act = ["flow", "act", instance_id, "complete", "--as", "co_sh", "--fields", REVIEW, "--request-id", point]
    _killed(bank.run(act, fault=point))
    assert _instance(bank, instance_id) == before                # no state, event, task, message or request id
    assert_consistent(bank)
    view = json.loads(bank.again(act))                           # the same request again: it runs now
    assert view["current_nodes"] == ["risk_assessment"] and [t["assignee"] for t in view["tasks"]] == ["risk_sh"]
    after = _instance(bank, instance_id)
    assert after[0] > before[0] and after[3] == 1
    again = flows.act(instance_id, "complete", actor="co_sh", request_id=point, task=task, fields=json.loads(REVIEW))
    assert again == view and _instance(bank, instance_id) == after          # and a third time does nothing
    assert_consistent(bank)


# -- the alert worker --------------------------------------------------------------------------------
def _disposals(bank: Bank, member: str) -> int:
    with bank.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(instances).where(
            instances.c.flow == "major_risk_disposal", instances.c.subject_key == member)).scalar()


def _active_facilities(bank: Bank, member: str) -> int:
    with bank.engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT COUNT(*) FROM e_facility f JOIN e_company c ON c.id = f.borrower "
            "WHERE c.credit_code = :member AND f.status = 'active'"), {"member": member}).scalar()


def _mails_of(bank: Bank, source: str) -> set[tuple[str, str]]:
    with bank.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.recipient, outbox.c.message_id).where(
            outbox.c.source == source, outbox.c.channel == "email")).all()
    return {(f"{r}@bank.example.cn", f"<{m}@bank.example.cn>") for r, m in rows}


def crash_alert_worker(bank: Bank, point: str) -> None:
    member = bank.members.pop()
    bank.listing(member)
    cursor, active = bank.cursor("alerts"), _active_facilities(bank, member)
    assert active
    _killed(bank.run(["worker", "--once"], fault=point))
    assert bank.cursor("alerts") == cursor                        # the batch is still to do …
    assert not bank.alert_of(member) and not _disposals(bank, member)     # … and nothing of it was kept
    assert _active_facilities(bank, member) == active
    assert_consistent(bank)
    bank.worker_after_lease()
    (alert,) = bank.alert_of(member)                              # once: one alert, one disposal, limits frozen
    assert _disposals(bank, member) == 1 and _active_facilities(bank, member) == 0
    mails = _mails_of(bank, f"alert:{alert}")
    assert mails and mails <= set(bank.smtp.got) and bank.unsent(f"alert:{alert}") == 0
    assert_consistent(bank)


# -- the outbox --------------------------------------------------------------------------------------
def _queue(bank: Bank) -> list[tuple[int, str, tuple[str, str]]]:
    """The unsent messages in the order a worker claims and sends them: (id, channel, (address, Message-ID))."""
    with bank.engine.connect() as conn:
        rows = conn.execute(sa.select(outbox.c.id, outbox.c.channel, outbox.c.recipient, outbox.c.message_id).where(
            outbox.c.sent_at.is_(None), outbox.c.attempts < 10).order_by(outbox.c.due_at, outbox.c.id)).all()
    return [(r.id, r.channel, (f"{r.recipient}@bank.example.cn", f"<{r.message_id}@bank.example.cn>")) for r in rows]


def crash_outbox(bank: Bank, point: str) -> None:
    member = bank.members.pop()
    bank.listing(member)
    feed.run_once(bank.engine, "crash-test", names=[alerts_worker.SUBSCRIBER])    # the alert and its messages
    (alert,) = bank.alert_of(member)
    source = f"alert:{alert}"
    queue, mails, got = _queue(bank), _mails_of(bank, source), len(bank.smtp.got)
    assert mails
    # after_send: die right after the first e-mail went out (in-app messages and SMS before it are sent)
    n = 1 if point == "outbox.after_claim" else 1 + [channel for _, channel, _ in queue].index("email")
    _killed(bank.run(["worker", "--once"], fault=f"{point}:{n}"))
    sent = bank.smtp.got[got:]
    assert sent == ([queue[n - 1][2]] if point == "outbox.after_send" else [])    # at the server …
    assert {i for i, *_ in queue[n - 1:]} <= {i for i, *_ in _queue(bank)}      # … and still to send
    assert_consistent(bank)
    bank.worker_after_lease()
    assert bank.unsent(source) == 0 and mails <= set(bank.smtp.got)
    assert_consistent(bank)                                        # a resent one under its one id


SCENARIOS: dict[str, Callable[[Bank, str], None]] = {
    "deploy.after_migrate": crash_deploy,
    "deploy.after_record": crash_deploy,
    "deploy.before_commit": crash_deploy,
    "records.after_batch": crash_import,
    "records.before_commit": crash_import,
    "flow.after_state": crash_flow_action,
    "flow.after_effects": crash_flow_action,
    "flow.before_commit": crash_flow_action,
    "alerts.after_evaluate": crash_alert_worker,
    "outbox.after_claim": crash_outbox,
    "outbox.after_send": crash_outbox,
}


@pytest.mark.parametrize("point", sorted(faults.POINTS))
def test_a_command_killed_at_a_step_boundary_leaves_nothing_and_runs_whole_again(bank, point):
    SCENARIOS[point](bank, point)


def _points_in_code() -> set[str]:
    found = set()
    for path in (ROOT / "runtime").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "point"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "faults"):
                assert node.args and isinstance(node.args[0], ast.Constant), f"{path}: name a fault point literally"
                found.add(node.args[0].value)
    return found


def test_every_fault_point_is_listed_placed_and_crashed_in():
    assert _points_in_code() == set(faults.POINTS)       # placed in the code ⇔ listed
    assert set(SCENARIOS) == set(faults.POINTS)          # listed ⇒ a command is killed there above


def test_an_armed_point_raises_or_kills_on_its_nth_reach(monkeypatch, capfd):
    faults.point("deploy.after_migrate")                  # not armed: nothing
    faults.arm("deploy.after_migrate", 2, mode="raise")
    faults.point("deploy.after_migrate")
    with pytest.raises(faults.InjectedFault, match="deploy.after_migrate"):
        faults.point("deploy.after_migrate")
    faults.point("deploy.after_migrate")                  # once only
    with pytest.raises(ValueError, match="no fault point named `deploy.after_migrat`"):
        faults.arm("deploy.after_migrat")
    faults.arm_from_environment({"BANYAN_FAULT": "outbox.after_send:3", "BANYAN_FAULT_MODE": "raise"})
    assert faults._armed["outbox.after_send"].left == 3
    faults.disarm()
    assert not faults._armed
    killed = []
    monkeypatch.setattr(faults.os, "kill", lambda pid, sig: killed.append((pid, sig)))
    faults.arm("flow.after_state")
    faults.point("flow.after_state")
    assert killed == [(faults.os.getpid(), faults.signal.SIGKILL)]
    assert "fault injected at flow.after_state" in capfd.readouterr().err


def test_a_raised_fault_rolls_the_bulk_write_back(engine):
    """`raise` mode, in-process: an error between two batches of a bulk write leaves none of its rows."""
    records = deploy(engine)
    rows = [{"code": f"G{i:04d}", "name": f"Group {i}"} for i in range(1500)]
    faults.arm("records.after_batch", mode="raise")
    try:
        with pytest.raises(faults.InjectedFault):
            records.bulk_create("group", rows, actor="t")
    finally:
        faults.disarm()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM e_group").scalar() == 0
        assert audit_log.verify(conn).ok
    assert records.bulk_create("group", rows, actor="t") == 1500


# -- kill -9 at random moments -----------------------------------------------------------------------
KILLS = 3            # per command
FIRST_STEPS = [("complete", "co_sh", REVIEW),
               ("complete", "risk_sh", json.dumps({"risk_rating": "medium", "risk_opinion": "集团经营稳定"},
                                                 ensure_ascii=False)),
               ("approve", "head_sh", None)]


def test_the_cli_killed_at_random_moments_leaves_all_or_nothing(bank):
    """deploy, import and a flow action, each killed -9 KILLS times at a random moment of its run
    (from half to all of what an unkilled run of it took), run again after each kill; afterwards
    the work is there once."""
    rng = random.Random(20261207)
    flows = FlowService(bank.engine)
    steps: list[tuple[str, str, str | None]] = []
    instance_id = ""

    def deploy_job():
        folder, name = bank.probe_bundle()
        version = bank.live_version()
        landed = lambda: bank.live_version() == version + 1        # noqa: E731
        return ["deploy", str(folder), "-m", "kill loop"], landed, \
            lambda: bank.live_version() in (version, version + 1) and _has_table(bank, name) == landed()

    def import_job():
        path, prefix = bank.person_file()
        return ["import", "person", str(path)], lambda: bank.persons(prefix) == 1500, \
            lambda: bank.persons(prefix) in (0, 1500)

    def act_job():
        nonlocal instance_id
        if not steps:                                       # an application's first three steps, then another
            instance_id = bank.credit_application(flows)
            steps.extend(FIRST_STEPS)
        action, who, fields = steps.pop(0)
        version = _instance(bank, instance_id)[0]
        args = ["flow", "act", instance_id, action, "--as", who, "--request-id", f"kill-{instance_id}-{who}",
                *(["--fields", fields] if fields else [])]
        return args, lambda: _instance(bank, instance_id)[0] > version, lambda: True

    interrupted = 0
    for job in (deploy_job, import_job, act_job):
        args, landed, whole = job()
        if args[0] not in bank.took:                       # how long a run takes (the crash tests above ran it)
            bank.ok(args)
            args, landed, whole = job()
        for _ in range(KILLS):
            if landed():
                args, landed, whole = job()
            proc = bank.popen(args)
            time.sleep(rng.uniform(0.5, 1.0) * bank.took[args[0]])
            running = proc.poll() is None
            proc.kill()
            proc.communicate()
            interrupted += running and not landed()
            assert whole(), f"banyan {' '.join(args)} killed at random left part of its work"
            assert_consistent(bank)
        if not landed():
            bank.again(args)                                 # run again: the work, once
        assert landed() and whole()
        assert_consistent(bank)
    assert interrupted >= KILLS, f"the kills should land while the commands still work (runs took {bank.took})"
