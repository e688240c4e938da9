"""Committee votes cast at the same moment (issue 17, "Concurrent votes conflict"): votes on one
step commute, so every vote whose task is still open lands — none is refused as a write
conflict — and the step moves on exactly once. Eight people, each through their own engine
(their own connection), are released together by a barrier, several rounds in a row, on a 会签
(all must approve), a ratio and a 或签 (any) step, on SQLite and on PostgreSQL. A vote on a
step already decided is a 409 `task_closed`; a stale If-Match still refuses an edit."""
from __future__ import annotations

import functools
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from dsl.compiler import compile_path
from runtime.audit import log as audit
from runtime.auth.users import UserStore
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.releases import release_of
from runtime.flows import service
from runtime.flows.directory import put_people
from runtime.flows.service import FlowService
from runtime.flows.store import FlowError
from runtime.flows.tables import events, tasks
from runtime.flows.tx import FlowTx
from runtime.storage.db import make_engine, writing

from .flow_bank import Clock, make_bank
from .test_flow_service import CREDIT, act, reviews

VOTERS = [f"v{i}" for i in range(1, 9)]
ROUNDS = 4
FLOW = """apiVersion: banyan/v1
kind: Flow
metadata: {{name: {name}, label: {{zh: {name}, en: {name}}}}}
spec:
  subject: group
  start: {{who: "role('relationship_manager')"}}
  nodes:
    - id: vote
      type: approval
      label: {{zh: 投票, en: Vote}}
      assignees: "role('board_risk_committee')"
      countersign: {countersign}
      actions: [approve, reject, comment]
      if_no_assignee: fail
      next: file
    - id: file
      type: task
      label: {{zh: 归档, en: File}}
      assignees: "initiator"
      next: done
    - {{id: done, type: end, outcome: filed}}
"""
STEPS = {"vote_all": "{mode: all}", "vote_ratio": "{mode: ratio, pass: 3/4}", "vote_any": "{mode: any}"}


@functools.lru_cache(maxsize=None)
def votes_bundle():
    root = Path(tempfile.mkdtemp(prefix="banyan-votes-")) / "configs"
    shutil.copytree("configs", root)
    for name, countersign in STEPS.items():
        (root / "flows" / f"{name}.yaml").write_text(FLOW.format(name=name, countersign=countersign),
                                                     encoding="utf-8")
    result = compile_path(str(root))
    assert result.ok, [str(d) for d in result.diagnostics]
    return result.bundle


@pytest.fixture
def committee(db_url):
    """The bank with the vote flows deployed and eight committee members; one FlowService on its
    own engine per member (as eight API processes would be), and one for the initiator."""
    engine = make_engine(db_url)
    clock = Clock()
    flows = make_bank(engine, clock)
    DeploymentRegistry(engine).deploy(release_of(votes_bundle()), author="test", message="vote flows")
    with writing(engine) as conn:
        put_people(conn, [{"name": u} for u in VOTERS],
                   [{"user": u, "role": "board_risk_committee", "org_unit": None} for u in VOTERS])
    engines = [make_engine(db_url) for _ in VOTERS]
    services = {u: FlowService(e, clock=clock) for u, e in zip(VOTERS, engines)}
    yield engine, flows, services
    for e in (engine, *engines):
        e.dispose()


def cast_together(services: dict[str, FlowService], view: dict, verdicts: dict[str, str],
                  expected_version: int | None = None) -> dict[str, object]:
    """Every member votes on their task at `vote` at the same moment; {member: view or FlowError}."""
    task = {t["assignee"]: t["id"] for t in view["tasks"] if t["node"] == "vote"}
    assert sorted(task) == VOTERS
    barrier = threading.Barrier(len(VOTERS))
    out: dict[str, object] = {}

    def vote(user: str) -> None:
        barrier.wait(timeout=30)
        try:
            out[user] = services[user].act(view["id"], verdicts[user], actor=user, task=task[user],
                                           comment=f"{user} votes", expected_version=expected_version)
        except FlowError as exc:
            out[user] = exc

    threads = [threading.Thread(target=vote, args=(u,)) for u in VOTERS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(out) == len(VOTERS), "a voter never came back"
    return out


def refused(out: dict[str, object]) -> dict[str, str]:
    return {u: r.code for u, r in out.items() if isinstance(r, FlowError)}


def check_instance(engine, instance_id: str, *, landed: int) -> list[dict]:
    """`landed` decisions recorded at `vote`, the step decided once, one task at `file`, no task
    twice; the audit chain verifies. Returns the instance's events."""
    with engine.connect() as conn:
        evs = [{"kind": r.kind, "node": r.node, "task": r.task, "actor": r.actor}
               for r in conn.execute(sa.select(events.c.kind, events.c.node, events.c.task, events.c.actor)
                                     .where(events.c.instance_id == instance_id).order_by(events.c.id))]
        rows = conn.execute(sa.select(tasks.c.id, tasks.c.node, tasks.c.assignee, tasks.c.status)
                            .where(tasks.c.instance_id == instance_id)).all()
        assert audit.verify(conn).ok
    votes = [e for e in evs if e["node"] == "vote" and e["kind"] in ("approve", "reject")]
    assert len(votes) == landed, votes
    assert len({e["actor"] for e in votes}) == landed                    # one vote each, never twice
    assert len([e for e in evs if e["kind"] in ("step_passed", "step_rejected") and e["node"] == "vote"]) == 1
    assert len([r for r in rows if r.node == "file"]) == 1                # the next step opened once
    vote_tasks = [r for r in rows if r.node == "vote"]
    assert sorted(r.assignee for r in vote_tasks) == VOTERS             # no task duplicated
    assert len({r.id for r in rows}) == len(rows)
    assert not [r for r in vote_tasks if r.status == "open"]
    return evs


def test_all_eight_votes_on_a_countersign_step_land(committee):
    engine, flows, services = committee
    for _ in range(ROUNDS):
        v = flows.start("vote_all", actor="rm", subject="G0001")
        out = cast_together(services, v, dict.fromkeys(VOTERS, "approve"))
        assert refused(out) == {}
        check_instance(engine, v["id"], landed=8)
        done = flows.instance(v["id"], with_timeline=False)
        assert done["current_nodes"] == ["file"] and done["version"] == v["version"] + 8


def test_a_ratio_step_passes_once_and_later_votes_find_it_closed(committee):
    engine, flows, services = committee
    verdicts = {u: "reject" if u in ("v2", "v7") else "approve" for u in VOTERS}
    for _ in range(ROUNDS):
        v = flows.start("vote_ratio", actor="rm", subject="G0001")
        out = cast_together(services, v, verdicts)
        # 3/4 of 8: the sixth approval carries the step; a rejection cast after it finds it closed
        assert set(refused(out).values()) <= {"task_closed"}
        assert all(verdicts[u] == "reject" for u in refused(out))
        evs = check_instance(engine, v["id"], landed=8 - len(refused(out)))
        assert len([e for e in evs if e["kind"] == "approve"]) == 6
        assert flows.instance(v["id"], with_timeline=False)["current_nodes"] == ["file"]


def test_an_any_step_takes_the_first_vote_and_closes_the_others(committee):
    engine, flows, services = committee
    for _ in range(ROUNDS):
        v = flows.start("vote_any", actor="rm", subject="G0001")
        out = cast_together(services, v, dict.fromkeys(VOTERS, "approve"))
        assert sorted(refused(out).values()) == ["task_closed"] * 7        # 409, not a conflict or a 404
        assert all(e.status == 409 for e in out.values() if isinstance(e, FlowError))
        check_instance(engine, v["id"], landed=1)


def test_the_loser_of_a_double_complete_finds_the_task_closed(committee):
    _, flows, services = committee
    v = flows.start("vote_all", actor="rm", subject="G0001")
    for user in VOTERS:
        v = flows.act(v["id"], "approve", actor=user, task=next(t["id"] for t in v["tasks"] if t["assignee"] == user))
    task = next(t["id"] for t in v["tasks"] if t["node"] == "file")
    barrier = threading.Barrier(2)
    out: list[object] = []

    def complete(service: FlowService) -> None:
        barrier.wait(timeout=30)
        try:
            out.append(service.act(v["id"], "complete", actor="rm", task=task))
        except FlowError as exc:
            out.append(exc)

    threads = [threading.Thread(target=complete, args=(s,)) for s in (services["v1"], services["v2"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    lost = [r for r in out if isinstance(r, FlowError)]
    assert len(out) == 2 and len(lost) == 1
    assert (lost[0].code, lost[0].status) == ("task_closed", 409)
    assert flows.instance(v["id"], with_timeline=False)["outcome"] == "filed"


def test_votes_sent_with_the_version_their_signers_saw_all_land(committee):
    """The task page sends the version it showed (If-Match): the other signers' votes since do not
    make it stale — none of them changed what this signer saw."""
    engine, flows, services = committee
    for _ in range(2):
        v = flows.start("vote_all", actor="rm", subject="G0001")
        out = cast_together(services, v, dict.fromkeys(VOTERS, "approve"), expected_version=v["version"])
        assert refused(out) == {}
        check_instance(engine, v["id"], landed=8)


def test_a_stale_if_match_still_refuses_an_edit_or_a_vote_on_an_edited_form(committee):
    _, flows, _ = committee
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 8 * 10**8, **CREDIT})
    v = reviews(flows, v)
    seen = v["version"]
    m1 = act(flows, v, "approve", "committee", "m1", fields={"approved_amount": 6 * 10**8}, expected_version=seen)
    with pytest.raises(FlowError) as stale:      # m1 changed the amount since m2's page was drawn
        act(flows, v, "approve", "committee", "m2", expected_version=seen)
    assert (stale.value.code, stale.value.status) == ("stale_version", 409)
    m2 = act(flows, v, "approve", "committee", "m2", expected_version=m1["version"])
    with pytest.raises(FlowError) as stale:      # m3 edits the amount on a page older than m2's vote
        act(flows, v, "approve", "committee", "m3", fields={"approved_amount": 5 * 10**8}, expected_version=seen + 1)
    assert stale.value.code == "stale_version"
    done = act(flows, v, "approve", "committee", "m3", fields={"approved_amount": 5 * 10**8},
               expected_version=m2["version"])
    assert done["outcome"] == "approved"


def test_a_deadlock_is_run_again_and_a_conflict_that_never_ends_says_so(committee, monkeypatch):
    _, flows, _ = committee
    v = flows.start("vote_all", actor="rm", subject="G0001")
    task = {t["assignee"]: t["id"] for t in v["tasks"]}
    real, calls = FlowTx.apply, []

    class Deadlock(Exception):
        sqlstate = "40P01"

    def deadlocked_once(self, *args, **kw):
        calls.append(1)
        if len(calls) == 1:
            raise sa.exc.OperationalError("UPDATE banyan_flow_instances …", {}, Deadlock("deadlock detected"))
        return real(self, *args, **kw)

    monkeypatch.setattr(FlowTx, "apply", deadlocked_once)
    assert flows.act(v["id"], "approve", actor="v1", task=task["v1"])["version"] == v["version"] + 1
    assert len(calls) == 2

    def conflicting(self, *args, **kw):
        calls.append(1)
        raise FlowError("conflict", "instance changed while this command ran")

    calls.clear()
    monkeypatch.setattr(FlowTx, "apply", conflicting)
    monkeypatch.setattr(service, "BACKOFF_MAX", 0.001)
    with pytest.raises(FlowError) as err:
        flows.act(v["id"], "approve", actor="v2", task=task["v2"])
    assert (err.value.code, err.value.status) == ("conflict", 409) and len(calls) == service.RETRIES
    assert f"{service.RETRIES} attempts" in err.value.message and "nothing was changed" in err.value.message
    assert flows.instance(v["id"], with_timeline=False)["version"] == v["version"] + 1


SERVE = """import sys, uvicorn
from runtime.storage.db import make_engine
from runtime.web.app import create_app
uvicorn.run(create_app(make_engine(sys.argv[1])), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_eight_votes_over_http_to_a_real_server_all_land(committee, db_url, tmp_path):
    """The same through the JSON API of a real uvicorn process on loopback (its thread pool runs the
    eight requests at once, unlike TestClient), each member with their own API token and If-Match."""
    engine, flows, _ = committee
    store = UserStore(engine)
    tokens = {}
    for user in VOTERS:
        store.save(user, display_name=user, org_unit="head_office", password="a long enough password", new=True)
        tokens[user] = store.create_token(user, "votes", by="test")
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-c", SERVE, db_url, str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while True:
            try:
                httpx.get(f"{base}/health", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
                time.sleep(0.2)
        for _ in range(2):
            v = flows.start("vote_all", actor="rm", subject="G0001")
            task = {t["assignee"]: t["id"] for t in v["tasks"]}
            barrier, answers = threading.Barrier(len(VOTERS)), {}

            def vote(user: str, v: dict = v, task: dict = task, barrier: threading.Barrier = barrier,
                     answers: dict = answers) -> None:
                with httpx.Client(base_url=base, timeout=60) as http:
                    barrier.wait(timeout=30)
                    answers[user] = http.post(f"/flow-instances/{v['id']}/approve",
                                              json={"task": task[user], "comment": "agreed"},
                                              headers={"Authorization": f"Bearer {tokens[user]}",
                                                       "If-Match": str(v["version"])})

            threads = [threading.Thread(target=vote, args=(u,)) for u in VOTERS]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=120)
            assert {u: r.status_code for u, r in answers.items()} == dict.fromkeys(VOTERS, 200), \
                {u: r.text for u, r in answers.items() if r.status_code != 200}
            check_instance(engine, v["id"], landed=8)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_a_page_sending_the_fields_unchanged_is_a_vote_not_an_edit(committee):
    """A task page sends the step's editable fields with every vote, changed or not: the same value
    the form holds is not an edit, so another signer's vote since does not make it stale — and the
    value stays on the vote, what this signer approved. A different value still is an edit."""
    _, flows, _ = committee
    v = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 8 * 10**8, **CREDIT})
    v = reviews(flows, v)
    m1 = act(flows, v, "approve", "committee", "m1", fields={"approved_amount": 6 * 10**8}, expected_version=v["version"])
    drawn = m1["version"]                        # m2's and m3's pages both show 6亿
    m2 = act(flows, v, "approve", "committee", "m2", fields={"approved_amount": "600000000"}, expected_version=drawn)
    assert m2["version"] > drawn
    m3 = act(flows, v, "approve", "committee", "m3", fields={"approved_amount": 6 * 10**8}, expected_version=drawn)
    assert m3["outcome"] == "approved"
    w = flows.start("group_credit_approval", actor="rm", subject="G0001", form={"amount": 8 * 10**8, **CREDIT})
    w = reviews(flows, w)
    n1 = act(flows, w, "approve", "committee", "m1", fields={"approved_amount": 6 * 10**8}, expected_version=w["version"])
    act(flows, w, "approve", "committee", "m2", expected_version=n1["version"])
    with pytest.raises(FlowError) as stale:      # m3 changes the amount on the page drawn before m2's vote
        act(flows, w, "approve", "committee", "m3", fields={"approved_amount": 5 * 10**8}, expected_version=n1["version"])
    assert stale.value.code == "stale_version"
