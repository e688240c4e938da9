"""`banyan test`: run the TestSuites of a bundle. Each case gets a database of its own with the
bundle deployed (sandbox.py); its `given` records go in through the records service — the same
value model and field rules as the API, the pages and an import, so a bad value fails the case at
its line —, the alert rules run at the case's `now`, its flow runs with the decisions it names,
and what came is compared with what it expects (engine/testing). Cases of a kind that does not
run yet are "not run", with the reason. A tier case evaluates the alert rules first (a cap reads
the alerts) and then the tiering, at the case's `now`."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock_time
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dsl.bank_time import bank_timezone
from dsl.errors import BanyanError, env_lang
from dsl.expr.values import shift
from engine.flow.svg import walked
from engine.testing.compare import (
    ERROR,
    NOT_RUN,
    CaseResult,
    Coverage,
    Difference,
    SeenAlert,
    compare_alerts,
    compare_flow,
    compare_tier,
    coverage_of,
    edges_taken,
    flow_path,
)
from runtime.alerts.service import AlertService
from runtime.alerts.tables import alert_actions, alerts
from runtime.flows.directory import put_people
from runtime.flows.service import FlowService
from runtime.flows.tables import instances, timers
from runtime.jobs.outbox_tables import outbox
from runtime.records.service import Records
from runtime.storage.db import writing
from runtime.testing.directory import factory, global_roles
from runtime.testing.sandbox import Sandbox
from runtime.tiering.service import TieringService

ACTOR = "banyan-test"
MAX_STEPS = 200                   # a flow that needs more actions than this is reported as stuck


@dataclass
class Report:
    results: list[CaseResult] = field(default_factory=list)
    coverage: Coverage | None = None
    seconds: float = 0.0
    graded: dict = field(default_factory=dict)      # (rule, grade) → the cases that raised it

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def ok(self, allow_not_run: bool = False) -> bool:
        bad = {"failed", ERROR} | (set() if allow_not_run else {NOT_RUN})
        return not any(r.status in bad for r in self.results)


@dataclass
class _Seen:
    """What the runs exercised, for coverage."""
    graded: dict = field(default_factory=dict)      # (rule, grade) → the cases that raised it
    acted: set = field(default_factory=set)
    taken: set = field(default_factory=set)
    tiered: dict = field(default_factory=dict)      # (tiering, "row" | "cap", index) → the cases it decided


def suites_of(bundle: Any) -> list[Any]:
    return [d for (kind, _), d in sorted(bundle.documents.items()) if kind == "TestSuite"]


def run_bundle(bundle: Any, *, names: Iterable[str] | None = None,
               progress: Callable[[CaseResult], None] | None = None) -> Report:
    """Every case of the bundle's TestSuites (of those `names`), in file order."""
    report, seen = Report(), _Seen()
    started = time.perf_counter()
    wanted = set(names) if names is not None else None
    with Sandbox(bundle) as sandbox:
        for suite in suites_of(bundle):
            if wanted is not None and suite.name not in wanted:
                continue
            for case in suite.cases:
                result = run_case(sandbox, suite, case, seen)
                report.results.append(result)
                if progress is not None:
                    progress(result)
    rules = [d for (k, _), d in sorted(bundle.documents.items()) if k == "AlertRule"]
    flows = [d for (k, _), d in sorted(bundle.documents.items()) if k == "Flow"]
    tierings = [d for (k, _), d in sorted(bundle.documents.items()) if k == "Tiering"]
    report.coverage = coverage_of(rules, flows, seen.graded, seen.acted, seen.taken, tierings, seen.tiered)
    report.graded = {k: set(v) for k, v in seen.graded.items()}
    report.seconds = time.perf_counter() - started
    return report


def moment(text: str | None) -> datetime:
    """The case's `now` on the bank's clock: a date is the start of that day (as `--at` reads it)."""
    tz = bank_timezone()
    if text is None:
        return datetime.now(tz)
    if "T" in text:
        at = datetime.fromisoformat(text)
        return at if at.tzinfo else at.replace(tzinfo=tz)
    return datetime.combine(date.fromisoformat(text), clock_time(0), tz)


def _words(exc: BanyanError) -> str:
    """The error as a person reads it, with each field problem it carries (`amount: …`)."""
    lang = env_lang()
    head = exc.render(lang)
    problems = exc.detail(lang) if exc.problems else []
    if not problems:
        return head
    parts = [(".".join(str(x) for x in p.get("loc") or ()) + ": " if p.get("loc") else "") + str(p.get("msg"))
             for p in problems]
    missing = [part for part in parts if part not in head]      # a head that lists them already is enough
    return f"{head}: {'; '.join(missing)}" if missing else head


def run_case(sandbox: Sandbox, suite: Any, case: Any, seen: _Seen) -> CaseResult:
    result = CaseResult(suite.name, case.name, case.span)
    started = time.perf_counter()
    engine = sandbox.fresh()
    try:
        _run(engine, case, result, seen, suite.defaults)
    finally:
        engine.dispose()
    result.seconds = time.perf_counter() - started
    return result


def _checks_alerts(expect: Any) -> bool:
    return expect.alerts is not None or expect.notified is not None or expect.started is not None


def _run(engine: Engine, case: Any, result: CaseResult, seen: _Seen, defaults: Any) -> None:
    clock = [moment(case.now)]                  # moved on by each `then:` step
    records = Records(engine)
    handed: list[str] = []
    flows = FlowService(engine, directory=factory(handed, global_roles(records.refresh().bundle)),
                        clock=lambda: clock[0])
    service = AlertService(engine, records=records, clock=lambda: clock[0], flows=flows)
    created: dict[str, list[dict]] = {}

    def given(raw: Any, spans: Any, span: Any) -> bool:
        """Write a moment's records; False (the case an error at the refused record) when one is refused."""
        try:
            put_given(records, engine, raw, spans, span, defaults, created)
        except _GivenError as exc:
            result.status, result.reason = ERROR, "a given record was refused"
            result.differences.append(exc.difference)
            return False
        return True

    if not given(case.raw, case.given_spans, case.span):
        return
    if _checks_alerts(case.expect) and not _moment(service, engine, case.expect, clock[0], result, seen):
        return
    if case.expect.tier is not None and not _tier_moment(service, engine, case.expect, clock, created, result, seen):
        return
    if case.flow is not None:
        run_flow(flows, handed, case, created, result, seen)
    for later in case.then:
        clock[0] = shift(clock[0], later.after)
        if not given(later.given, later.given_spans, later.span):
            return
        if _checks_alerts(later.expect) and not _moment(service, engine, later.expect, clock[0], result, seen):
            return
        if later.expect.tier is not None and not _tier_moment(service, engine, later.expect, clock, created, result,
                                                              seen):
            return


def _moment(service: AlertService, engine: Engine, expect: Any, at: datetime, result: CaseResult,
            seen: _Seen) -> bool:
    """Scan every rule at `at` and compare what is open, sent and started with `expect`; False
    when the scan itself could not run (the case is then an error)."""
    with engine.connect() as conn:
        since = _high_water(conn)
    try:
        service.scan(at=at)
    except BanyanError as exc:
        result.status, result.reason = ERROR, _words(exc)
        return False
    live = service.records.refresh()
    found = open_alerts(engine, {n: d.scope for (k, n), d in live.bundle.documents.items() if k == "AlertRule"})
    for a in found:
        seen.graded.setdefault((a.rule, a.grade), set()).add(result.case)
    seen.acted.update(acted(engine))
    if expect.alerts is not None:
        for d in compare_alerts(expect.alerts, found, expect.span):
            result.fail(d)
    with engine.connect() as conn:
        sent = conn.execute(sa.select(outbox.c.recipient, outbox.c.channel)
                            .where(outbox.c.id > since[0], outbox.c.source.like("alert:%"))).all()
        begun = list(conn.execute(sa.select(instances.c.flow).join(alert_actions, alert_actions.c.target == instances.c.id)
                                  .where(alert_actions.c.id > since[1], alert_actions.c.kind == "start_flow",
                                         alert_actions.c.ok.is_(True))
                                  .order_by(instances.c.flow)).scalars())
    for d in compare_notified(expect.notified, [(r.recipient, r.channel) for r in sent]):
        result.fail(d)
    if expect.started is not None and sorted(expect.started) != begun:
        result.fail(Difference("started", ", ".join(sorted(expect.started)) or "no flow",
                               ", ".join(begun) or "no flow", expect.span))
    return True


def _tier_moment(alerts_: AlertService, engine: Engine, expect: Any, clock: list[datetime],
                 created: dict[str, list[dict]], result: CaseResult, seen: _Seen) -> bool:
    """Evaluate the alert rules, then the tiering, at the moment, and compare the subject's tier
    and the scores the case names; False when either could not run (the case is then an error)."""
    want = expect.tier
    tiers = TieringService(engine, records=alerts_.records, clock=lambda: clock[0])
    try:
        alerts_.scan(at=clock[0])
        live = tiers.records.refresh()
        tiering = tiers.tiering(live, want.tiering)
        entity = tiering.subject
        keys = [want.on] if want.on is not None else [
            str(r[live.model[entity].key]) for r in created.get(entity, [])]
        if len(keys) != 1:
            result.status, result.reason = ERROR, (
                f"the case gives {len(keys)} {entity} records: say which one with `on:` in `expect.tier`")
            return False
        (id_,) = tiers.subject_ids(live, tiering, keys)
        with engine.connect() as conn:
            found = tiers.results(conn, live, tiering, [id_], clock[0]).get(id_)
    except BanyanError as exc:
        result.status, result.reason = ERROR, _words(exc)
        return False
    outcome = found[1] if found is not None else None
    if outcome is not None:
        rule, cap = outcome.decisive_rule, outcome.decisive_cap
        if rule is not None:
            seen.tiered.setdefault((tiering.name, "row", rule.index), set()).add(result.case)
        if cap is not None:
            seen.tiered.setdefault((tiering.name, "cap", cap.index), set()).add(result.case)
    for d in compare_tier(want, outcome, keys[0]):
        result.fail(d)
    return True


def _high_water(conn: Any) -> tuple[int, int]:
    """The newest outbox row and alert action before a moment's scan (what it adds comes after)."""
    return (conn.execute(sa.select(sa.func.coalesce(sa.func.max(outbox.c.id), 0))).scalar() or 0,
            conn.execute(sa.select(sa.func.coalesce(sa.func.max(alert_actions.c.id), 0))).scalar() or 0)


def compare_notified(expected: Any, sent: list[tuple[str | None, str]]) -> list[Difference]:
    """Every (role, channel) expected must have reached a holder of the role (the test's people
    are named role@unit) by that channel (any channel when none is named)."""
    if expected is None:
        return []
    out = []
    for role, channel, span in expected:
        if not any((r or "").partition("@")[0] == role and (channel is None or c == channel) for r, c in sent):
            got = ", ".join(sorted({f"{r} ({c})" for r, c in sent})) or "nothing sent"
            out.append(Difference("notified", f"{role}" + (f" by {channel}" if channel else ""), got, span))
    return out


class _GivenError(Exception):
    def __init__(self, difference: Difference):
        self.difference = difference


def put_given(records: Records, engine: Engine, raw: Any, spans_of: Any, span: Any, defaults: Any,
              created: dict[str, list[dict]]) -> None:
    """Write a moment's records in the order written: an entity's records as they are (over the
    suite's `defaults` for the entity), a collection's with their reference to the record given
    before them filled in. A reference to a record given later in the same moment (a company in
    a group whose parent company it is) is set once that record exists. `created` (by entity)
    grows with what was written."""
    live = records.refresh()
    coming = {(key, str(row.get(live.model[key].key))) for key, rows in raw.items()
              if key in live.bundle.entities for row in rows}
    later: list[tuple[str, int, str, Any, Any]] = []       # (entity, id, field, value, line)
    for key, rows in raw.items():
        spans = spans_of.get(key) or (span,) * len(rows)
        if key == "org_unit":
            _known_units(live, rows, spans)
            continue
        if key == "user":
            with writing(engine) as conn:
                put_people(conn, [{"name": r.get("name"), "display_name": r.get("display_name"),
                                   "org_unit": r.get("org_unit")} for r in rows])
            continue
        entity, via, parent = _where(live, key, created)
        refs = {f.name: f.ref for f in live.entity(entity).fields if f.ref}
        for row, where in zip(rows, spans):
            values = {**((defaults or {}).get(entity) or {}), **row}
            if via is not None and parent is not None and via not in values:
                values[via] = parent
            wait = {f: v for f, v in values.items() if f in refs and (refs[f], str(v)) in coming}
            try:
                made = records.create(entity, {f: v for f, v in values.items() if f not in wait}, actor=ACTOR)
            except BanyanError as exc:
                raise _GivenError(Difference("given", f"a valid {entity}", _words(exc), where)) from None
            created.setdefault(entity, []).append(made)
            coming.discard((entity, str(made.get(live.model[entity].key))))
            later += [(entity, made["id"], f, v, where) for f, v in wait.items()]
    for entity, id_, name, value, where in later:
        try:
            records.update(entity, id_, {name: value}, actor=ACTOR)
        except BanyanError as exc:
            raise _GivenError(Difference("given", f"a valid {entity}", _words(exc), where)) from None


def _known_units(live: Any, rows: tuple, spans: tuple) -> None:
    units = {n for (k, n) in live.bundle.documents if k == "OrgUnit"}
    for row, span in zip(rows, spans):
        if row.get("name") not in units:
            raise _GivenError(Difference("given", "an org unit of the bundle", f"no org unit `{row.get('name')}`",
                                         span))


def _where(live: Any, key: str, created: dict[str, list[dict]]) -> tuple[str, str | None, Any]:
    """(entity, the field pointing to the parent, the parent's key) for a `given` key."""
    if key in live.bundle.entities:
        return key, None, None
    for parent, made in created.items():
        for c in live.entity(parent).collections:
            if c.name == key:
                return c.entity, c.via, made[0].get(live.model[parent].key)
    raise BanyanError(f"`{key}` is neither an entity nor a collection of a given record", code="BNY605")


def open_alerts(engine: Engine, scopes: dict[str, str]) -> list[SeenAlert]:
    """The open alerts; `scopes`: each rule's scope entity (an alert elsewhere is a roll-up)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(alerts.c.rule, alerts.c.grade, alerts.c.subject_entity, alerts.c.subject_key)
                            .where(alerts.c.status == "open").order_by(alerts.c.id)).all()
    return [SeenAlert(r.rule, r.grade, r.subject_entity, str(r.subject_key),
                      r.subject_entity != scopes.get(r.rule, r.subject_entity)) for r in rows]


def acted(engine: Engine) -> set[tuple[str, int]]:
    """(rule, action index) of every start_flow or update that ran."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(alerts.c.rule, alert_actions.c.action)
                            .join(alerts, alerts.c.id == alert_actions.c.alert_id)
                            .where(alert_actions.c.ok.is_(True))).all()
    return {(r.rule, r.action) for r in rows}


def run_flow(flows: FlowService, handed: list[str], case: Any, given: dict[str, list[dict]], result: CaseResult,
             seen: _Seen) -> None:
    run = case.flow
    compiled = flows.flow(run.flow)
    subject = None
    if compiled.subject:
        made = given.get(compiled.subject) or []
        subject = made[0].get(flows.records.refresh().model[compiled.subject].key) if made else None
    try:
        instance = _start(flows, handed, run, subject)
        status = _drive(flows, instance, compiled, run)
    except BanyanError as exc:
        result.status, result.reason = ERROR, f"flow `{run.flow}` could not run"
        result.differences.append(Difference("flow.run", f"flow `{run.flow}` runs", _words(exc), run.span))
        return
    view = flows.instance(instance)
    timeline = flows.timeline(instance)
    walk = walked(compiled, timeline)
    seen.taken.update((run.flow, a, b) for a, b in edges_taken(compiled, walk))
    got_status = view["status"] if status is None else status
    for d in compare_flow(case.flow_path, case.flow_outcome, flow_path(compiled, timeline), view.get("outcome"),
                          got_status, run.span):
        result.fail(d)


def _start(flows: FlowService, handed: list[str], run: Any, subject: Any) -> str:
    """Start as someone the flow lets start it: the test's own name first, then the first holder
    the flow's `start.who` named on that try."""
    form = dict(run.form)
    mark = len(handed)                      # holders named before (an alert's disposal flow) are not asked
    try:
        return flows.start(run.flow, actor=ACTOR, subject=subject, form=form)["id"]
    except BanyanError as exc:
        if getattr(exc, "code", None) not in ("not_allowed", "forbidden") or len(handed) == mark:
            raise
    return flows.start(run.flow, actor=handed[mark], subject=subject, form=form)["id"]


def _drive(flows: FlowService, instance: str, compiled: Any, run: Any) -> str | None:
    """Act on the open tasks until the instance ends: a step named in `decisions` gets that
    decision the first time it is reached, every other step (and a later visit) approves or
    completes; a subflow it calls is driven the same way (its steps approve). Returns a status
    word when it stops without ending (waiting on a timer or an event)."""
    plans: dict[str, dict[str, Any]] = {compiled.name: {n.id: n for n in compiled.nodes}}
    decided: set[str] = set()
    for _ in range(MAX_STEPS):
        view = flows.instance(instance, with_timeline=False)
        if view["status"] != "running":
            return None
        found = _open_task(flows, instance)
        if found is None:
            return "waiting"
        at, flow_name, task = found
        if flow_name not in plans:
            plans[flow_name] = {n.id: n for n in flows.flow(flow_name).nodes}
        node = plans[flow_name].get(task["node"])
        own = at == instance
        decision = run.decisions.get(task["node"]) if own and task["node"] not in decided else None
        if own:
            decided.add(task["node"])
        actor = task["assignee"] or (task["candidates"] or [None])[0]
        if actor is None:
            return f"stuck at {task['node']}: nobody holds the task"
        if task["assignee"] is None:
            flows.act(at, "claim", actor=actor, task=task["id"])
        if node is None:                # the initiator's edit form after a return: sent again as it is
            flows.act(at, "resubmit", actor=actor, task=task["id"])
            continue
        if decision == "timeout":
            if not _fire_deadline(flows, at, task["node"]):
                return f"no deadline at {task['node']} to time out"
            continue
        action = decision or ("approve" if hasattr(node, "countersign") else "complete")
        params: dict[str, Any] = {"task": task["id"]}
        if action in ("approve", "complete") and run.fields.get(task["node"]):
            params["fields"] = dict(run.fields[task["node"]])
        if action in ("reject", "return"):
            params["comment"] = "banyan test"
        if action == "return":
            params["to"] = (node.return_to or ("initiator",))[0]
        flows.act(at, action, actor=actor, **params)
    return f"still running after {MAX_STEPS} actions"


def _open_task(flows: FlowService, instance: str) -> tuple[str, str, dict] | None:
    """(instance, its flow, an open task) of `instance` or of a subflow it waits on, deepest first."""
    with flows.engine.connect() as conn:
        children = list(conn.execute(sa.select(instances.c.id).where(instances.c.parent_id == instance,
                                                                     instances.c.status == "running")
                                     .order_by(instances.c.started_at)).scalars())
    for child in children:
        found = _open_task(flows, child)
        if found is not None:
            return found
    view = flows.instance(instance, with_timeline=False)
    return (instance, view["flow"], view["tasks"][0]) if view["tasks"] else None


def _fire_deadline(flows: FlowService, instance: str, node: str) -> bool:
    """Let the step's deadline pass: its deadline timer fires now (the soonest, when several run)."""
    with flows.engine.connect() as conn:
        names = list(conn.execute(sa.select(timers.c.timer).where(timers.c.instance_id == instance,
                                                                  timers.c.kind == "deadline")
                                  .order_by(timers.c.due_at)).scalars())
    return any(flows.fire_timer(instance, name) is not None for name in names[:1])
