"""Benchmark of engine.flow against SpiffWorkflow 3.2 (pip `spiffworkflow==3.2.0`).

    python benchmarks/flows.py [--quick]

The same approval process on both engines, side by side in one run (medians of rounds that
alternate the engines): start → apply (user task) → exclusive gateway → either one approval
or a 3-way parallel countersign (multi-instance) → end; half the instances take each way.

- engine_vs_spiff_memory: user tasks/s in memory, Banyan ÷ Spiff (value: Banyan's tasks/s).
- step_cost_growth: a 200-step chain, each step = run the task + save the state to JSON + load
  it back (what a durable engine does per step); cost of step 200 ÷ cost of step 10.
- roundtrip_vs_spiff_serialize_proxy: tasks/s with a JSON save + reload after every task,
  in memory, no database.

Every SpiffWorkflow save + reload here keeps state as SpiffArena does: the spec stored once,
each save the instance alone (`instance_serializer`); the stock serializer would write and parse
the whole spec with every save, which made Spiff look slower than its users' deployments are.
- durable_vs_spiff_persisted: tasks/s persisted on SQLite, one transaction per task, the same
  process on both sides (start → apply → gateway → one approval or a 3-way countersign → end),
  in one database file, through the same `runtime.storage.db.writing` transactions and settings (WAL,
  synchronous=NORMAL). Banyan: the runtime's FlowService with its real directory (role holders
  and people read from their tables), per command: load, apply, optimistic write, tasks, events,
  outbox, audit chain; its start is a transaction of its own and counted in its time.
  SpiffWorkflow: its spec read from its row and restored once; per task, read the instance's
  JSON state from a SQLite row, deserialize, run the task and the engine steps, serialize,
  write it back; creating the workflow and the final read that sees it completed are counted
  in its time. Rounds alternate which side goes first;
  medians. durable_vs_spiff_persisted_cpu: the same rounds in this process's CPU time, which a
  busy machine disturbs less than wall time.

- durable_pg_tasks_per_s: flow commands per second (starts and task actions, each one transaction
  of the runtime's FlowService) from 2 processes at once on one PostgreSQL schema, target ≥ 800;
  durable_sqlite_tasks_per_s beside it: the same on one SQLite file, where one writer goes at a
  time. Each process runs 250 instances a round (100 with --quick, about 1,000 and 400 commands),
  so a round lasts seconds, not a scheduler's slice. Rounds alternate the databases; medians.

Writes benchmarks/results/flows.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import metric, report  # noqa: E402

from dsl.compiler import compile_texts  # noqa: E402
from engine.flow import Approve, Complete, FlowContext, Start, StaticDirectory, apply, from_json, to_json  # noqa: E402

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="approval" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="apply" name="Apply"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="route" default="small"><bpmn:incoming>f2</bpmn:incoming>
      <bpmn:outgoing>big</bpmn:outgoing><bpmn:outgoing>small</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:userTask id="single" name="Approve"><bpmn:incoming>small</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="committee" name="Countersign"><bpmn:incoming>big</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics isSequential="false">
        <bpmn:loopCardinality>3</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
    <bpmn:endEvent id="end1"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="end2"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="apply"/>
    <bpmn:sequenceFlow id="f2" sourceRef="apply" targetRef="route"/>
    <bpmn:sequenceFlow id="big" sourceRef="route" targetRef="committee">
      <bpmn:conditionExpression>amount &gt; 100</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="small" sourceRef="route" targetRef="single"/>
    <bpmn:sequenceFlow id="f3" sourceRef="single" targetRef="end1"/>
    <bpmn:sequenceFlow id="f4" sourceRef="committee" targetRef="end2"/>
  </bpmn:process>
</bpmn:definitions>"""

CHAIN_BPMN_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="chain" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>s0</bpmn:outgoing></bpmn:startEvent>
"""

ROLE = "apiVersion: banyan/v1\nkind: Role\nmetadata: {name: %s}\nspec: {scope: org_unit}\n"
BASE = {
    "app.yaml": "apiVersion: banyan/v1\nkind: Form\nmetadata: {name: app}\nspec:\n  fields:\n"
                "    - {name: amount, type: integer}\n",
    **{f"{r}.yaml": ROLE % r for r in ("clerk", "approver", "committee")},
}
FLOW = """apiVersion: banyan/v1
kind: Flow
metadata: {name: approval}
spec:
  form: app
  start: {}
  nodes:
    - {id: apply, type: task, assignees: "role('clerk')"}
    - id: route
      type: branch
      cases:
        - {when: "form.amount > 100", goto: committee}
      default: single
    - {id: single, type: approval, assignees: "role('approver')", next: done}
    - {id: committee, type: approval, assignees: "role('committee')", countersign: {mode: all}}
    - {id: done, type: end, outcome: approved}
"""
DIRECTORY = StaticDirectory({"clerk": {None: ["clerk"]}, "approver": {None: ["boss"]},
                             "committee": {None: ["m1", "m2", "m3"]}, "hand": {None: ["hand"]}})
CTX = FlowContext(directory=DIRECTORY)
T0 = datetime(2026, 3, 2, 9, 0)


def banyan_flows(chain: int):
    nodes = "".join(f"    - {{id: s{i}, type: task, assignees: \"role('hand')\"}}\n" for i in range(chain))
    chain_flow = ("apiVersion: banyan/v1\nkind: Flow\nmetadata: {name: chain}\nspec:\n  start: {}\n  nodes:\n"
                  + nodes + "    - {id: done, type: end}\n")
    result = compile_texts({**BASE, "hand.yaml": ROLE % "hand", "approval.yaml": FLOW, "chain.yaml": chain_flow})
    assert result.ok, [str(d.message) for d in result.diagnostics]
    docs = result.bundle.documents
    return docs[("Flow", "approval")], docs[("Flow", "chain")]


# --- running one instance on each engine --------------------------------------------------
def banyan_instance(flow, n: int, amount: int, persist: bool) -> int:
    now = T0
    state = apply(flow, None, Start(actor="ann", now=now, instance=f"i{n}", form={"amount": amount}), CTX).state
    done = 0
    while state.running:
        task = next(iter(state.tasks.values()))
        kind = Complete if task.node == "apply" else Approve
        state = apply(flow, state, kind(actor=task.assignee, now=now, task=task.id), CTX).state
        if persist:
            state = from_json(json.loads(json.dumps(to_json(state))))
        done += 1
    return done


def spiff_instance(spec, serializer, amount: int, persist: bool) -> int:
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState
    wf = BpmnWorkflow(spec)
    wf.do_engine_steps()
    done = 0
    while not wf.is_completed():
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        if task.task_spec.name == "apply":
            task.data["amount"] = amount
        task.run()
        wf.do_engine_steps()
        if persist:
            wf = serializer.deserialize_json(serializer.serialize_json(wf))
        done += 1
    return done


def spiff_setup(chain: int):
    from SpiffWorkflow.bpmn.parser import BpmnParser
    parser = BpmnParser()
    parser.add_bpmn_str(BPMN.encode())
    body = "".join(f'    <bpmn:userTask id="s{i}"><bpmn:incoming>s{i}f</bpmn:incoming>'
                   f'<bpmn:outgoing>s{i + 1}f</bpmn:outgoing></bpmn:userTask>\n'
                   f'    <bpmn:sequenceFlow id="s{i + 1}f" sourceRef="s{i}" targetRef="{f"s{i + 1}" if i + 1 < chain else "end"}"/>\n'
                   for i in range(chain))
    xml = (CHAIN_BPMN_HEAD.replace("<bpmn:outgoing>s0</bpmn:outgoing>", "<bpmn:outgoing>s0f</bpmn:outgoing>")
           + '    <bpmn:sequenceFlow id="s0f" sourceRef="start" targetRef="s0"/>\n' + body
           + f'    <bpmn:endEvent id="end"><bpmn:incoming>s{chain}f</bpmn:incoming></bpmn:endEvent>\n'
           + "  </bpmn:process>\n</bpmn:definitions>")
    parser.add_bpmn_str(xml.encode())
    spec, chain_spec = parser.get_spec("approval"), parser.get_spec("chain")
    return spec, chain_spec, instance_serializer([spec, chain_spec])


def instance_serializer(specs):
    """SpiffWorkflow's serializer the way SpiffArena keeps state: the process spec is stored once
    (SpiffArena's process-definition tables) and each save writes the instance alone (its tasks,
    data and events, the spec by name); a load restores the instance onto the spec object this
    process already holds. Kinder to Spiff than SpiffArena itself, which restores the spec from
    its rows on every load. The stock serializer writes and parses the whole spec every time."""
    from uuid import UUID

    from SpiffWorkflow.bpmn.serializer import DEFAULT_CONFIG, BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    known = {spec.name: spec for spec in specs}

    class InstanceOnly(BpmnWorkflowConverter):
        def to_dict(self, workflow):
            dct = WorkflowConverter.to_dict(self, workflow)
            dct["spec"] = workflow.spec.name
            dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
            dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
            return dct

        def from_dict(self, dct):                     # BpmnWorkflowConverter.from_dict, the spec known
            workflow = self.target_class(known[dct.pop("spec")], {}, deserializing=True)
            workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
            workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
            self.set_default_attributes(workflow, dct)
            self.subprocesses_from_dict(dct["subprocesses"], workflow)
            workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
            return workflow

    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure({**DEFAULT_CONFIG, BpmnWorkflow: InstanceOnly}))


def whole_serializer():
    """The stock serializer: here only to store a spec once, and to read it back."""
    from SpiffWorkflow.bpmn.serializer import DEFAULT_CONFIG, BpmnWorkflowSerializer
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(DEFAULT_CONFIG))




# --- measurements ---------------------------------------------------------------------------
def throughput(instances: int, rounds: int, persist: bool, flow, spec, serializer):
    """Median user tasks/s of each engine over `rounds` alternating rounds."""
    b, s = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        tasks = sum(banyan_instance(flow, n, 50 if n % 2 else 500, persist) for n in range(instances))
        b.append(tasks / (time.perf_counter() - start))
        start = time.perf_counter()
        tasks = sum(spiff_instance(spec, serializer, 50 if n % 2 else 500, persist) for n in range(instances))
        s.append(tasks / (time.perf_counter() - start))
    return statistics.median(b), statistics.median(s)


def banyan_step_costs(chain_flow, steps: int, repeat: int) -> list[float]:
    """Per step i: median over `repeat` runs of (apply + save + load) time."""
    costs = [[] for _ in range(steps)]
    for r in range(repeat):
        now = T0
        state = apply(chain_flow, None, Start(actor="ann", now=now, instance=f"c{r}"), CTX).state
        for i in range(steps):
            task = next(iter(state.tasks.values()))
            t = time.perf_counter()
            state = apply(chain_flow, state, Complete(actor="hand", now=now, task=task.id), CTX).state
            state = from_json(json.loads(json.dumps(to_json(state))))
            costs[i].append(time.perf_counter() - t)
            now += timedelta(minutes=1)
    return [statistics.median(c) for c in costs]


def spiff_step_costs(chain_spec, serializer, steps: int, repeat: int) -> list[float]:
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState
    costs = [[] for _ in range(steps)]
    for _ in range(repeat):
        wf = BpmnWorkflow(chain_spec)
        wf.do_engine_steps()
        for i in range(steps):
            t = time.perf_counter()
            wf.get_tasks(state=TaskState.READY, manual=True)[0].run()
            wf.do_engine_steps()
            wf = serializer.deserialize_json(serializer.serialize_json(wf))
            costs[i].append(time.perf_counter() - t)
    return [statistics.median(c) for c in costs]


PEOPLE = [{"name": n, "display_name": n} for n in ("clerk", "boss", "m1", "m2", "m3")]
ROLES = [{"user": "clerk", "role": "clerk"}, {"user": "boss", "role": "approver"},
         *({"user": m, "role": "committee"} for m in ("m1", "m2", "m3"))]


def _deployed_with_people(engine) -> None:
    """The approval flow deployed and its people in the runtime's own tables, so that every
    command asks the real directory (role holders, the person record) as it does in production."""
    from runtime.deploy.deployments import DeploymentRegistry
    from runtime.deploy.releases import release_of
    from runtime.flows.directory import put_people
    from runtime.storage.db import writing
    result = compile_texts({**BASE, "approval.yaml": FLOW})
    assert result.ok
    DeploymentRegistry(engine).deploy(release_of(result.bundle), author="bench")
    with writing(engine) as conn:
        put_people(conn, PEOPLE, ROLES)


def flow_service(engine):
    """The runtime's FlowService with its default directory (the tables) and a ticking clock."""
    from runtime.flows.service import FlowService
    clock = iter(T0 + timedelta(seconds=i) for i in range(10**9))
    return FlowService(engine, clock=lambda: next(clock))


def durable_setup(tmp: Path):
    """A SQLite database with the approval flow deployed and its people loaded, a FlowService
    over it, and in the same database SpiffWorkflow's tables: its spec, stored once, and its
    instances' state."""
    from runtime.storage.db import make_engine
    engine = make_engine(f"sqlite:///{tmp / 'flows.db'}")
    _deployed_with_people(engine)
    spec, _chain, _ = spiff_setup(1)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE spiff_spec (name TEXT PRIMARY KEY, spec TEXT NOT NULL)")
        conn.exec_driver_sql("CREATE TABLE spiff_state (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")
        conn.exec_driver_sql("INSERT INTO spiff_spec VALUES (?, ?)",
                             (spec.name, json.dumps(whole_serializer().to_dict(spec))))
    return engine, flow_service(engine)


def spiff_stored(engine):
    """The approval spec as a SpiffWorkflow service holds it: read from its row once, restored
    once, and the instance serializer over it."""
    with engine.connect() as conn:
        text = conn.exec_driver_sql("SELECT spec FROM spiff_spec WHERE name = 'approval'").scalar()
    spec = whole_serializer().from_dict(json.loads(text))
    return spec, instance_serializer([spec])


def banyan_durable(service, amount: int) -> int:
    view = service.start("approval", actor="ann", form={"amount": amount})
    done = 0
    while view["status"] == "running":
        task = view["tasks"][0]
        action = "complete" if task["node"] == "apply" else "approve"
        view = service.act(view["id"], action, actor=task["assignee"], task=task["id"])
        done += 1
    return done


def spiff_durable(engine, spec, serializer, n: int, amount: int) -> int:
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    from runtime.storage.db import writing
    wf = BpmnWorkflow(spec)
    wf.do_engine_steps()
    with writing(engine) as conn:
        conn.exec_driver_sql("INSERT INTO spiff_state VALUES (?, ?)", (n, serializer.serialize_json(wf)))
    done = 0
    while True:
        with writing(engine) as conn:
            text = conn.exec_driver_sql("SELECT state FROM spiff_state WHERE id = ?", (n,)).scalar()
            wf = serializer.deserialize_json(text)
            if wf.is_completed():
                return done
            task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
            if task.task_spec.name == "apply":
                task.data["amount"] = amount
            task.run()
            wf.do_engine_steps()
            conn.exec_driver_sql("UPDATE spiff_state SET state = ? WHERE id = ?", (serializer.serialize_json(wf), n))
        done += 1


def durable_throughput(instances: int, rounds: int) -> tuple[float, float, float, float]:
    """Median tasks/s of each side over `rounds` rounds, the order alternating round by round:
    (Banyan wall, SpiffWorkflow wall, Banyan CPU, SpiffWorkflow CPU). CPU time (this process)
    is reported beside wall time because it does not count time lost to other processes."""
    import gc
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        engine, service = durable_setup(Path(tmp))
        spec, serializer = spiff_stored(engine)
        for i in range(4):                                                               # warm up
            banyan_durable(service, 50 if i % 2 else 500), spiff_durable(engine, spec, serializer, -i - 1, 500)
        wall: dict[str, list[float]] = {"banyan": [], "spiff": []}
        cpu: dict[str, list[float]] = {"banyan": [], "spiff": []}
        n = 0

        def banyan_round() -> int:
            return sum(banyan_durable(service, 50 if i % 2 else 500) for i in range(instances))

        def spiff_round() -> int:
            nonlocal n
            tasks = 0
            for i in range(instances):
                n += 1
                tasks += spiff_durable(engine, spec, serializer, n, 50 if i % 2 else 500)
            return tasks

        sides = [("banyan", banyan_round), ("spiff", spiff_round)]
        for r in range(rounds):
            for name, run in (sides if r % 2 == 0 else sides[::-1]):
                gc.collect()
                start, start_cpu = time.perf_counter(), time.process_time()
                tasks = run()
                wall[name].append(tasks / (time.perf_counter() - start))
                cpu[name].append(tasks / (time.process_time() - start_cpu))
        engine.dispose()
    m = statistics.median
    return m(wall["banyan"]), m(wall["spiff"]), m(cpu["banyan"]), m(cpu["spiff"])


PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _deployed(url: str) -> None:
    from runtime.storage.db import make_engine
    engine = make_engine(url)
    _deployed_with_people(engine)
    engine.dispose()


def _command_worker(url: str, instances: int, go, done) -> None:
    """One process issuing flow commands (each start and each task action one transaction)."""
    from runtime.storage.db import make_engine
    engine = make_engine(url)
    service = flow_service(engine)
    banyan_durable(service, 500)                                                  # warm: the bundle, the statements
    go.wait()
    commands = sum(1 + banyan_durable(service, 50 if i % 2 else 500) for i in range(instances))
    done.put(commands)
    engine.dispose()


def commands_per_second(url: str, processes: int, instances: int) -> float:
    """Flow commands per second (starts and task actions, each its own transaction: load, apply,
    write, tasks, events, outbox, audit chain) from `processes` processes at once on one database,
    from the moment all are ready to the last one's end."""
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    go, done = ctx.Barrier(processes + 1), ctx.Queue()
    workers = [ctx.Process(target=_command_worker, args=(url, instances, go, done)) for _ in range(processes)]
    for w in workers:
        w.start()
    go.wait()
    start = time.perf_counter()
    total = sum(done.get(timeout=1800) for _ in workers)
    elapsed = time.perf_counter() - start
    for w in workers:
        w.join()
    return total / elapsed


def multi_process(instances: int, rounds: int, processes: int = 2) -> dict[str, float | None]:
    """`durable_pg_tasks_per_s` beside SQLite's: each database freshly deployed, `rounds` rounds
    alternating the databases; medians. PostgreSQL is skipped (None) when no server answers."""
    import os
    import tempfile
    import uuid

    import sqlalchemy as sa
    pg = os.environ.get("BANYAN_TEST_POSTGRES_URL", PG_URL)
    schema = "bench_" + uuid.uuid4().hex[:10]
    try:
        admin = sa.create_engine(pg, connect_args={"connect_timeout": 2})
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        pg_url: str | None = f"{pg}{'&' if '?' in pg else '?'}options=-csearch_path%3D{schema}"
    except Exception:  # noqa: BLE001 - no PostgreSQL here: SQLite alone
        admin, pg_url = None, None
    out: dict[str, list[float]] = {"postgresql": [], "sqlite": []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            urls = {"sqlite": f"sqlite:///{Path(tmp) / 'multi.db'}"}
            if pg_url:
                urls["postgresql"] = pg_url
            for url in urls.values():
                _deployed(url)
            for r in range(rounds):
                for db in (list(urls) if r % 2 == 0 else list(urls)[::-1]):
                    out[db].append(commands_per_second(urls[db], processes, instances))
    finally:
        if admin is not None:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()
    return {db: (statistics.median(v) if v else None) for db, v in out.items()}


def window(costs: list[float], at: int, width: int = 2) -> float:
    """Median cost around step `at` (1-based), to smooth a single noisy step."""
    return statistics.median(costs[max(0, at - 1 - width): at + width])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    instances, rounds, repeat = (200, 3, 3) if args.quick else (1000, 5, 7)
    steps = 200
    flow, chain_flow = banyan_flows(steps)
    spec, chain_spec, serializer = spiff_setup(steps)
    banyan_instance(flow, 0, 500, True), spiff_instance(spec, serializer, 500, True)       # warm up

    b_mem, s_mem = throughput(instances, rounds, False, flow, spec, serializer)
    b_rt, s_rt = throughput(instances // 4, rounds, True, flow, spec, serializer)
    b_db, s_db, b_db_cpu, s_db_cpu = durable_throughput(instances // 10, rounds + 2)
    multi = multi_process(instances // 2 if args.quick else instances // 4, 3 if args.quick else 5)
    b_costs = banyan_step_costs(chain_flow, steps, repeat)
    s_costs = spiff_step_costs(chain_spec, serializer, steps, max(1, repeat // 2))
    b_growth = window(b_costs, 200) / window(b_costs, 10)
    s_growth = window(s_costs, 200) / window(s_costs, 10)
    rows = [
        metric("engine_vs_spiff_memory", b_mem, "tasks/s", "spiffworkflow 3.2 tasks/s", s_mem, b_mem / s_mem),
        metric("step_cost_growth", b_growth, "x", "spiffworkflow 3.2 growth", s_growth, s_growth / b_growth),
        metric("step_10_cost", window(b_costs, 10) * 1e6, "us", "spiffworkflow 3.2 us", window(s_costs, 10) * 1e6,
               window(s_costs, 10) / window(b_costs, 10)),
        metric("step_200_cost", window(b_costs, 200) * 1e6, "us", "spiffworkflow 3.2 us", window(s_costs, 200) * 1e6,
               window(s_costs, 200) / window(b_costs, 200)),
        metric("roundtrip_vs_spiff_serialize_proxy", b_rt, "tasks/s", "spiffworkflow 3.2 save+reload tasks/s", s_rt,
               b_rt / s_rt),
        metric("durable_vs_spiff_persisted", b_db, "tasks/s", "spiffworkflow 3.2 SQLite save+reload tasks/s", s_db,
               b_db / s_db),
        metric("durable_vs_spiff_persisted_cpu", b_db_cpu, "tasks/cpu-s",
               "spiffworkflow 3.2 SQLite save+reload tasks/cpu-s", s_db_cpu, b_db_cpu / s_db_cpu),
        metric("durable_sqlite_tasks_per_s", multi["sqlite"] or 0, "commands/s",
               "2 processes, one SQLite file (one writer at a time)"),
    ]
    if multi["postgresql"] is not None:
        rows.append(metric("durable_pg_tasks_per_s", multi["postgresql"], "commands/s",
                           "2 processes, PostgreSQL; target >= 800", 800.0, multi["postgresql"] / 800.0))
    report("flows", rows)


if __name__ == "__main__":
    main()
