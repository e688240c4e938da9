"""The alert service: evaluate the deployed AlertRules over subjects (engine/alerts grades them
and decides each alert's step; this room reads the records and writes the steps), on a record
change (`on_changes`, the change feed's subscriber `alerts`) and over every subject in a scan.

Reads are set-based: the subjects of a batch in one query, each collection a rule reads in one
query for the whole batch (`Loader.rows`, `Loader.prime`), their open alerts in one more."""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from dsl.diagnostics import did_you_mean
from dsl.link import CIRCLE
from engine.alerts import decide, evaluate, roll_up
from runtime.alerts import circles, scan
from runtime.alerts.bulk import Pending, write_steps
from runtime.alerts.counts import Counts
from runtime.alerts.dispose import ActionScope, alert_facts, dispose
from runtime.alerts.facts import CASCADE, readers
from runtime.alerts.messages import evidence_types, message_of, reads_text
from runtime.alerts.notify import assigned, notify
from runtime.alerts.reading import AlertReading, view_of
from runtime.alerts.reads import columns_read, prime, read_paths
from runtime.alerts.scan import by_scope
from runtime.alerts.store import (
    AlertError,
    Steps,
    close_gone,
    evidence_text,
    feed_alert_steps,
    keep_errors,
    open_alerts,
    write_step,
)
from runtime.alerts.tables import OPEN, alert_actions, alert_errors, alert_events, alerts
from runtime.alerts.triggers import Trigger, triggers_of
from runtime.audit import log as audit
from runtime.auth.org import OrgTree
from runtime.auth.scope import Scope, placement_of, scope_for
from runtime.flows.calendar import LiveCalendar
from runtime.flows.service import FlowService
from runtime.flows.store import db_time, dumps
from runtime.jobs.changes import Change
from runtime.records.context import Loader, RecordContext
from runtime.records.service import Records
from runtime.records.store import keys_to_ids
from runtime.records.validation import Problem
from runtime.storage.db import writing
from runtime.storage.migrate import upgrade

log = logging.getLogger("banyan.alerts")
SUBSCRIBER = "alerts"
BATCH = 2000                       # subjects per transaction in a scan: one read per table each


class AlertService(AlertReading):
    def __init__(self, engine: Engine, *, records: Records | None = None, calendar: Any = None,
                 clock: Callable[[], datetime] | None = None, flows: FlowService | None = None):
        """`flows`: the flow service that starts disposal flows (default: one on the same engine,
        calendar and clock; `banyan test` hands in one with its own directory)."""
        upgrade(engine)
        self.engine = engine
        self.records = records or Records(engine)
        self.calendar = calendar if calendar is not None else LiveCalendar(self.records.refresh)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._flows: FlowService | None = flows

    def calendar_now(self) -> Any:
        """The business calendar as deployed now, read once for a batch of evaluations."""
        return self.calendar.current() if hasattr(self.calendar, "current") else self.calendar

    @property
    def flows(self) -> FlowService:
        """The flow service that starts disposal flows (same calendar and clock)."""
        if self._flows is None:
            self._flows = FlowService(self.engine, calendar=self.calendar, clock=self.clock)
        return self._flows

    # -- the rules -------------------------------------------------------------------------------
    def rules(self, live: Any, names: Iterable[str] | None = None) -> list[Any]:
        """The deployed AlertRules (those `names`; an unknown name is refused with the known ones)."""
        deployed = {n: d for (k, n), d in live.bundle.documents.items() if k == "AlertRule"}
        if names is None:
            return [deployed[n] for n in sorted(deployed)]
        out = []
        for n in names:
            if n not in deployed:
                hint = did_you_mean(n, deployed) or f"deployed rules: {', '.join(sorted(deployed)) or 'none'}"
                raise AlertError(f"no alert rule `{n}` is deployed ({hint})", code="unknown_rule", status=404)
            out.append(deployed[n])
        return out

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(self, conn: Connection, live: Any, rules: Sequence[Any], ids: list[int], at: datetime,
                 actor: str = "system", *, roll_ups: bool = True, cascades: bool = True, depth: int = 0,
                 skip: frozenset[str] = frozenset()) -> Counts:
        """Evaluate `rules` (all of one scope entity) over its records `ids` at `at`, in `conn`'s
        transaction, writing each alert's step. A subject deleted since closes its open alerts.
        Then the alerts the rules roll up (`roll_up: {to: group}`) on the records the subjects
        point to, unless `roll_ups` is False (a scan does them once, at its end: `counts.parents`).
        Then the rules that read the alerts that moved (`cascade`), unless `cascades` is False (a
        scan does that once its batches are done: `counts.moved`), leaving out the rules `skip`."""
        counts = Counts()
        if not rules or not ids:
            return counts
        entity = rules[0].scope
        names = tuple(r.name for r in rules)
        base = circles.FIRM if entity == CIRCLE else entity
        loader = Loader(conn, live, live.cache(("alert columns", base, names), columns_read, live, base, rules))
        loader.given("$now", at)
        reads = " ".join(reads_text(r) for r in rules)
        if entity == CIRCLE:                # guarantee circles: no table, the graph room's circles
            found = circles.subjects(conn, live, loader, ids)
            circles.keep_members(conn, found, ids)
            contexts: dict[int, RecordContext] = dict(circles.contexts(loader, found))
            rows = {a: dict(c.row()) for a, c in found.items()}
            children = [m for c in found.values() for m in c.members]
            key: str | None = "key"
        else:
            rows = loader.rows(entity, ids)
            contexts, children, key = {}, list(rows), live.model[entity].key
        if entity == CIRCLE:               # the members' collections the rules name
            for c in live.entity(circles.FIRM).collections:
                if c.name in reads:
                    loader.prime(c.entity, c.via, children)
        else:                              # what the rules reach, level by level (runtime/alerts/reads.py)
            prime(loader, entity, list(rows.values()), read_paths(rules))
        current = open_alerts(conn, [r.name for r in rules], entity, ids)
        failed: list[dict] = []
        holders: dict = {}                 # (role, unit) → its holders nearest, for this transaction
        moved: set[int] = set()            # subjects whose alert took a step: rules reading alerts hear it
        steps = Steps(conn, live.version)  # timeline events and audit entries, written together
        pending: list[Pending] = []        # the steps decided, written together (runtime/alerts/bulk.py)
        acting: list[tuple[Any, RecordContext, dict]] = []     # each one's rule, context and row, for its actions
        calendar = self.calendar_now()
        for id_ in ids:
            row = rows.get(id_)
            if row is None:
                for rule in rules:
                    stored = current.get((rule.name, id_))
                    if stored is not None:
                        close_gone(conn, stored, rule.name, entity, id_, at, live.version, actor)
                        counts.steps["subject_deleted"] += 1
                continue
            counts.subjects += 1
            for rule in rules:
                if rule.roll_up is not None and rule.roll_up.entity and row.get(rule.roll_up.to) is not None:
                    counts.parents[rule.name].add(row[rule.roll_up.to])
            ctx = contexts.get(id_) or RecordContext(entity, row, loader, id_)
            subject_key = row.get(key) if key else id_
            for rule in rules:
                counts.evaluations += 1
                finding = evaluate(rule, ctx)
                if finding.grade is None and not finding.errors and (rule.name, id_) not in current:
                    continue                   # the common answer: quiet, and no alert to move
                errors = [{"rule": rule.name, "subject": str(subject_key), "where": w, "expression": t}
                          for w, t in finding.errors]
                if errors:
                    failed.append({"rule": rule.name, "id": id_, "key": str(subject_key),
                                   "errors": [{"where": w, "expression": t} for w, t in finding.errors]})
                    if len(counts.errors) < 100:
                        counts.errors += errors[: 100 - len(counts.errors)]
                stored = current.get((rule.name, id_))
                evidence = evidence_text(finding.evidence, evidence_types(rule)) if finding.holds else (
                    stored.evidence if stored is not None else "[]")
                step = decide(rule, None if stored is None else stored.current, finding, at, calendar,
                              evidence_changed=stored is not None and stored.evidence != evidence)
                if not step.changes:
                    continue
                message = message_of(rule, row, step.grade, evidence)
                pending.append(Pending(step, rule.name, entity, id_, subject_key, stored, message, evidence, errors))
                acting.append((rule, ctx, row))
                counts.steps[step.kind] += 1
                moved.add(id_)
        alert_ids = write_steps(conn, pending, version=live.version, at=at, actor=actor, steps=steps)
        steps.flush()                      # the alerts' own steps first, then what their actions write
        for p, alert_id, (rule, ctx, row) in zip(pending, alert_ids, acting):
            step = p.step
            if step.grade is None or not rule.actions:
                continue
            facts = json.loads(p.evidence)
            scope = ActionScope(ctx, step.grade, alert_facts(alert_id, rule, step.grade, p.message, facts))
            members = found[p.subject_id].members if entity == CIRCLE else None
            counts.messages += notify(conn, live, loader, rule, scope, alert_id=alert_id, step=step.kind,
                                      grade=step.grade, entity=entity, row=row, subject_key=p.subject_key,
                                      evidence=facts, due_at=step.due_at, at=at, memo=holders, members=members)
            for done in dispose(conn, self.flows, self.records, rule, scope, alert_id=alert_id,
                                step=step.kind, subject_key=p.subject_key, at=at):
                counts.steps[f"{done['kind']}{'' if done['ok'] else ' failed'}"] += 1
        steps.flush()
        keep_errors(conn, [r.name for r in rules], entity, ids, failed, at)
        if roll_ups:
            for rule in rules:
                if counts.parents.get(rule.name):
                    counts.add(self.roll_up(conn, live, rule, sorted(counts.parents[rule.name]), at, actor))
        if moved and not cascades:
            counts.moved[entity] |= moved
        elif moved:
            counts.add(self.cascade(conn, live, entity, moved, at, actor, depth, skip=skip))
        return counts

    @staticmethod
    def context_of(loader: Loader, entity: str, subject_id: int) -> RecordContext | None:
        """One subject as its rules read it, on its own (a scan reads many at once): a record, or a
        guarantee circle as the graph finds it now; None when it is gone."""
        if entity == CIRCLE:
            found = circles.subjects(loader.conn, loader.live, loader, [subject_id])
            return circles.contexts(loader, found).get(subject_id)
        row = loader.row(entity, subject_id)
        return None if row is None else RecordContext(entity, row, loader, subject_id)

    def cascade(self, conn: Connection, live: Any, entity: str, moved: set[int], at: datetime, actor: str,
                depth: int, *, skip: frozenset[str] = frozenset()) -> Counts:
        """Alerts as facts: the records of `entity` in `moved` had an alert opened, raised, lowered
        or closed; rules that hear `alert.…` and read those alerts are evaluated again, in this
        transaction — on the record itself (`alerts`), on the records that refer to it
        (`core_enterprise.alerts`), and on the records whose collection refers to it
        (`any(guarantees_received, g -> worst_grade(g.guarantor.alerts) == 'red')`: a guarantor
        turning red reaches the borrowers it guarantees). At most `CASCADE` steps deep. The rules
        `skip` are left out (a scan evaluates them over every subject afterwards)."""
        counts = Counts()
        if depth >= CASCADE:
            return counts
        todo: dict[str, tuple[list[Any], set[int]]] = {}
        touched: dict[int, Any] | None = None
        for rule in self.rules(live):
            if rule.name in skip or not any(e.partition(".")[0] == "alert" for e in rule.events):
                continue
            if rule.scope == CIRCLE:        # a member's alert moved: the circles it is in
                if entity != circles.FIRM:
                    continue
                if touched is None:
                    touched = circles.circles_of(conn, live, Loader(conn, live), moved)
                ids = set(touched) | set(_circles_open_on(conn, rule.name, moved))
            else:
                ids = readers(conn, live, rule, entity, sorted(moved))
            if ids:
                rules, found = todo.setdefault(rule.scope, ([], set()))
                rules.append(rule)
                found |= ids
        for _scope, (rules, ids) in sorted(todo.items(), key=lambda kv: kv[0]):
            counts.add(self.evaluate(conn, live, rules, sorted(ids), at, actor, depth=depth + 1, skip=skip))
        return counts

    def roll_up(self, conn: Connection, live: Any, rule: Any, parent_ids: list[int], at: datetime,
                actor: str = "system") -> Counts:
        """The alerts `rule` rolls up onto the records `parent_ids` (its `roll_up.to`), from their
        members' open alerts: opened, raised, lowered, cleared or lifted like any alert (the
        members' alerts have told their people; the group's alert sends nothing of its own)."""
        counts = Counts()
        ru = rule.roll_up
        if ru is None or not ru.entity or not parent_ids:
            return counts
        scope_t, member = live.table(rule.scope), live.entity(rule.scope)
        name_col = scope_t.c[member.display] if getattr(member, "display", None) in scope_t.c else alerts.c.subject_key
        by_parent: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for start in range(0, len(parent_ids), 500):
            chunk = parent_ids[start:start + 500]
            q = (sa.select(scope_t.c[ru.to], name_col, alerts.c.subject_key, alerts.c.grade)
                 .select_from(alerts.join(scope_t, scope_t.c.id == alerts.c.subject_id))
                 .where(alerts.c.rule == rule.name, alerts.c.status == OPEN, alerts.c.subject_entity == rule.scope,
                        scope_t.c[ru.to].in_(chunk)))
            for parent, name, key, grade in conn.execute(q):
                by_parent[parent].append((str(name or key), grade))
        loader = Loader(conn, live)
        rows = loader.rows(ru.entity, parent_ids)
        key = live.model[ru.entity].key
        current = open_alerts(conn, [rule.name], ru.entity, parent_ids)
        steps = Steps(conn, live.version)
        calendar = self.calendar_now()
        for pid in parent_ids:
            row, stored = rows.get(pid), current.get((rule.name, pid))
            if row is None:
                if stored is not None:
                    close_gone(conn, stored, rule.name, ru.entity, pid, at, live.version, actor)
                    counts.steps["subject_deleted"] += 1
                continue
            finding = roll_up(rule, by_parent.get(pid, ()))
            evidence = evidence_text(finding.evidence) if finding.holds else (
                stored.evidence if stored is not None else "[]")
            step = decide(rule, None if stored is None else stored.current, finding, at, calendar,
                          evidence_changed=stored is not None and stored.evidence != evidence)
            if not step.changes:
                continue
            write_step(conn, step, rule=rule.name, entity=ru.entity, subject_id=pid,
                       subject_key=row.get(key) if key else pid, stored=stored,
                       message=message_of(rule, row, step.grade, evidence), evidence=evidence, errors=[],
                       version=live.version, at=at, actor=actor, steps=steps)
            counts.steps[f"roll-up {step.kind}"] += 1
        steps.flush()
        return counts

    def evaluate_subjects(self, rule_names: Iterable[str] | None, keys: Iterable[Any], *,
                          at: datetime | None = None, actor: str = "system") -> Counts:
        """Evaluate rules (all, or those named) over the subjects given by key or id, now (or `at`)."""
        live = self.records.refresh()
        at = at or self.clock()
        counts = Counts()
        scopes = by_scope(self.rules(live, rule_names))
        keys = list(keys)
        with writing(self.engine) as conn:
            for entity, rules in scopes.items():
                if entity == CIRCLE:                # `GC123`: the circle anchored at company #123
                    found = sorted({int(str(k)[2:]) for k in keys if str(k)[:2] == "GC" and str(k)[2:].isdigit()})
                    counts.add(self.evaluate(conn, live, rules, found, at, actor))
                    continue
                found = sorted(set(keys_to_ids(conn, live, entity, keys).values()))
                counts.add(self.evaluate(conn, live, rules, found, at, actor))
        return counts

    # -- a scan of every subject (runtime/alerts/scan.py) -----------------------------------------
    def scan(self, rule_names: Iterable[str] | None = None, *, at: datetime | None = None, batch: int = BATCH,
             progress: Callable[[int], None] | None = None) -> Counts:
        """Evaluate rules (all, or those named) over every subject of their scope, `batch` subjects
        per transaction; idempotent and resumable (runtime/alerts/scan.py)."""
        return scan.scan(self, rule_names, at=at, batch=batch, progress=progress)

    def subjects_to_scan(self, rule_names: Iterable[str] | None = None) -> int:
        """How many subjects a scan of these rules evaluates (for a progress bar)."""
        return scan.subjects_to_scan(self, rule_names)

    # -- the change feed -------------------------------------------------------------------------
    def on_changes(self, conn: Connection, changes: Sequence[Change]) -> Counts:
        """The feed handler: the subjects these changes touch, by each rule's `on:` list, evaluated
        in the feed's transaction (the subscriber's cursor and the alerts move together)."""
        live = self.records.refresh()
        rules = {r.name: r for r in self.rules(live)}
        by_entity: dict[str, list[Trigger]] = defaultdict(list)
        for rule in rules.values():
            for t in live.cache(("alert triggers", rule.name), triggers_of, live.bundle, rule):
                by_entity[t.entity].append(t)
        wanted: dict[str, set[int]] = defaultdict(set)            # rule → subject ids
        via_needed: dict[tuple[str, str], set[int]] = defaultdict(set)
        hits: list[tuple[Trigger, Change]] = []
        for change in changes:
            for t in by_entity.get(change.entity, ()):
                if t.hears(change.op):
                    hits.append((t, change))
                    if t.how == "collection" and change.op != "delete":
                        via_needed[(t.entity, t.via or "")].add(change.record_id)
        loader = Loader(conn, live)
        parents: dict[tuple[str, str], dict[int, Any]] = {}
        for (entity, via), ids in via_needed.items():
            if entity in live.model:
                parents[(entity, via)] = {i: r.get(via) for i, r in loader.rows(entity, sorted(ids)).items()}
        for t, change in hits:
            if t.how == "subject":
                wanted[t.rule].add(change.record_id)
            else:
                parent = parents.get((t.entity, t.via or ""), {}).get(change.record_id)
                if parent is not None:                 # a deleted child's parent is unknown
                    wanted[t.rule].add(parent)
        counts = Counts()
        at = self.clock()
        by_scope: dict[str, dict[int, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for name, ids in wanted.items():
            for i in ids:
                by_scope[rules[name].scope][i].append(rules[name])
        for subjects in by_scope.values():
            groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
            for i, rs in subjects.items():
                groups[tuple(sorted(r.name for r in rs))].append(i)
            for names, ids in groups.items():
                counts.add(self.evaluate(conn, live, [rules[n] for n in names], sorted(ids), at))
        return counts

    # -- closing (reading: runtime/alerts/reading.py) ---------------------------------------------
    def act(self, alert_id: int, action: str, *, actor: str, text: Any = None, scope: Scope | None = None) -> dict:
        """A person's action on an open alert they may read: `acknowledge` (签收: they have it in
        hand), `comment` (a text on its timeline), `assign` (`text`: the user who handles it, told
        in the app), `close` (with the reason). The doors check the `alerts.close` permission for
        `assign` and `close`. Each on the timeline and in the audit chain; the alert after it."""
        if action not in ACTIONS:
            raise AlertError(f"an alert has no action `{action}` (its actions: {', '.join(ACTIONS)})",
                             code="unknown_action", status=404)
        if not isinstance(actor, str) or not actor.strip():
            raise AlertError("who acts must be named", code="invalid")
        text = _text_of(action, text)
        if action == "assign":
            assignee = self.records.users().get(text)
            if assignee is None or not assignee.active:
                raise AlertError(f"no active user `{text}` to assign the alert to", code="unknown_user",
                                 problems=[Problem(("to",), "name an active user", "unknown_user")])
            self.get(alert_id, scope=scope)                # the asker's 404 first
            if not self._visible(alert_id, scope_for(OrgTree(self.records.refresh().bundle), assignee)):
                raise AlertError(f"{text} cannot see this alert's client; assign it to someone who serves it",
                                 code="assignee_out_of_scope",
                                 problems=[Problem(("to",), "outside this person's org scope", "out_of_scope")])
        now = self.clock()
        live = self.records.refresh()
        with writing(self.engine) as conn:
            row = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id, *self.scope_conditions(scope))).mappings().first()
            if row is None:
                raise AlertError(f"no alert #{alert_id}", code="not_found", status=404)
            if row["status"] != OPEN:
                raise AlertError(f"alert #{alert_id} is {row['status']}: nothing more can be done on it",
                                 code="not_open", status=409)
            at = db_time(now)
            if action == "acknowledge":
                if row["acknowledged_at"] is not None:
                    return self.get(alert_id, scope=scope)         # taken in hand already: nothing to add
                conn.execute(alerts.update().where(alerts.c.id == alert_id).values(
                    acknowledged_at=at, acknowledged_by=actor, updated_at=at))
            elif action == "close":
                conn.execute(alerts.update().where(alerts.c.id == alert_id).values(
                    status="closed", closed_at=at, closed_by=actor, close_reason=text, updated_at=at))
            elif action == "assign":
                if row["assigned_to"] == text:
                    return self.get(alert_id, scope=scope)         # theirs already: nothing to add
                conn.execute(alerts.update().where(alerts.c.id == alert_id).values(assigned_to=text, updated_at=at))
                assigned(conn, live, row, text, actor, now)
            conn.execute(alert_events.insert().values(alert_id=alert_id, at=at, kind=action, grade=row["grade"],
                                                      actor=actor, data=dumps({"text": text}) if text else None))
            audit.append(conn, [audit.AuditEntry(actor, "alert", "alert", alert_id, None, dumps(
                {"alert": alert_id, "rule": row["rule"], "subject": [row["subject_entity"], row["subject_key"]],
                 "step": action, **({"text": text} if text else {})}))], live.version)
            if action == "close":
                feed_alert_steps(conn, [("close", alert_id, [row["subject_entity"], row["subject_key"]])], actor, live.version)
        return self.get(alert_id, scope=scope)

    def _visible(self, alert_id: int, scope: Scope | None) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(alerts.c.id).where(alerts.c.id == alert_id, *self.scope_conditions(scope))).first() \
                is not None

    def get(self, alert_id: int, *, scope: Scope | None = None) -> dict:
        """One alert with its timeline; an alert on a subject outside `scope` is as unknown as one
        that does not exist (404)."""
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(alerts).where(alerts.c.id == alert_id, *self.scope_conditions(scope))).mappings().first()
            if r is None:
                raise AlertError(f"no alert #{alert_id}", code="not_found", status=404)
            view = view_of(r)
            view["actions"] = [{"action": a.action, "kind": a.kind, "ok": a.ok, "target": a.target, "at": a.at,
                                **(json.loads(a.detail) if a.detail else {})}
                               for a in conn.execute(sa.select(alert_actions).where(alert_actions.c.alert_id == alert_id)
                                                     .order_by(alert_actions.c.action))]
            view["timeline"] = [{"at": e.at, "kind": e.kind, "grade": e.grade, "actor": e.actor,
                                 "data": None if e.data is None else json.loads(e.data)}
                                for e in conn.execute(sa.select(alert_events).where(alert_events.c.alert_id == alert_id)
                                                      .order_by(alert_events.c.id))]
            if r["subject_entity"] == CIRCLE:
                view["circle"] = self.circle_seen(conn, r["subject_id"], scope)
        return view


    def circle_seen(self, conn: Connection, anchor: int, scope: Scope | None) -> dict:
        """A circle alert's members as `scope` sees them: those it may read, named, with their worst
        open grade (worst first); the others only counted (as the graph answers are cut)."""
        live = self.records.refresh()
        ids = circles.member_ids(conn, anchor)
        firm = circles.FIRM
        t, ent, key = live.table(firm), live.entity(firm), live.model[firm].key
        conds = [] if scope is None or scope.bank_wide else placement_of(live).readable(live, firm, scope)
        name = t.c[ent.display] if getattr(ent, "display", None) in t.c else t.c[key]
        shown = {r.id: (str(r[1]), str(r[2] or r[1])) for r in conn.execute(
            sa.select(t.c.id, t.c[key], name).where(t.c.id.in_(ids), *conds))}
        worst: dict[int, str] = {}
        rank = {"red": 0, "orange": 1, "yellow": 2}
        for sid, grade in conn.execute(sa.select(alerts.c.subject_id, alerts.c.grade).where(
                alerts.c.subject_entity == firm, alerts.c.status == OPEN, alerts.c.subject_id.in_(list(shown)))):
            if sid not in worst or rank.get(grade, 3) < rank.get(worst[sid], 3):
                worst[sid] = grade
        members = [{"key": k, "name": n, "grade": worst.get(i)} for i, (k, n) in shown.items()]
        members.sort(key=lambda m: (rank.get(m["grade"] or "", 3), m["name"]))
        return {"members": members, "others": len(ids) - len(shown)}

    def errors(self, *, rule: str | None = None, limit: int = 200) -> list[dict]:
        """The subjects whose last evaluation could not read a condition or evidence of a rule."""
        q = sa.select(alert_errors).order_by(alert_errors.c.rule, alert_errors.c.subject_key).limit(limit)
        if rule:
            q = q.where(alert_errors.c.rule == rule)
        with self.engine.connect() as conn:
            return [{"rule": r["rule"], "subject": {"entity": r["subject_entity"], "key": r["subject_key"]},
                     "errors": json.loads(r["errors"]), "at": r["at"]} for r in conn.execute(q).mappings()]


ACTIONS = ("acknowledge", "comment", "assign", "close")
MAX_TEXT = {"comment": 2000, "close": 500, "assign": 200}


def _text_of(action: str, text: Any) -> str:
    """A comment's or a close's text, checked: given, text, not too long (AlertError at `text`)."""
    if text is not None and not isinstance(text, str):
        raise AlertError("the text must be text", code="invalid", problems=[Problem(("text",), "must be text", "type")])
    text = (text or "").strip()
    if action in MAX_TEXT and not text:
        raise AlertError({"comment": "a comment needs a text", "close": "closing an alert needs a text",
                          "assign": "name the user who handles the alert"}[action],
                         code="text_required", problems=[Problem(("text",), "write it", "required")])
    if action in MAX_TEXT and len(text) > MAX_TEXT[action]:
        raise AlertError(f"the text is longer than {MAX_TEXT[action]} characters", code="text_too_long",
                         problems=[Problem(("text",), f"at most {MAX_TEXT[action]} characters", "max_length")])
    return text


def _circles_open_on(conn: Connection, rule: str, firms: Iterable[int]) -> list[int]:
    """The circles with an open alert of `rule` that had one of `firms` as a member (a circle the
    firm has left is evaluated again, and closes if it is gone)."""
    firms = sorted(set(firms))
    q = (sa.select(alerts.c.subject_id).where(alerts.c.rule == rule, alerts.c.subject_entity == CIRCLE,
                                              alerts.c.status == OPEN,
                                              alerts.c.subject_id.in_(sa.select(circles.circle_members.c.anchor_id)
                                                                      .where(circles.circle_members.c.member_id
                                                                             .in_(firms)))))
    return list(conn.execute(q).scalars())
