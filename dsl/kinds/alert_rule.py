"""The AlertRule kind: a 7x24 warning rule (预警规则). Each grade's condition is compiled
against the scope entity; the engine raises the highest grade that holds, records the
evidence, suppresses repeats, rolls the alert up to the group and runs the actions."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from dsl.diagnostics import Diagnostics, did_you_mean
from dsl.expr import ast, parse_expression
from dsl.expr.ast import walk
from dsl.expr.cases import shadowed
from dsl.expr.types import BOOL, FieldInfo, RecordType, enum, record
from dsl.ir import Label, Metadata
from dsl.kinds.actions import Action, build_actions
from dsl.kinds.alert_rule_schema import GRADES, SCHEMA
from dsl.kinds.channel import placeholders
from dsl.kinds.events import check_event
from dsl.kinds.meta import metadata_of
from dsl.kinds.parts import Duration, as_dict, duration_at, resolve_entity, spec_of, subject_scope
from dsl.kinds.registry import KindDef, register
from dsl.kinds.schedule import Schedule, parse_schedule
from dsl.link import CIRCLE, LinkContext
from dsl.loader import Document
from dsl.source import Span


@dataclass(frozen=True)
class Grade:
    name: str                 # yellow | orange | red
    when: Any                 # CompiledExpr
    span: Span


@dataclass(frozen=True)
class Evidence:
    label: Label
    value: Any                # CompiledExpr
    span: Span


@dataclass(frozen=True)
class RollUp:
    to: str                   # the ref field of the scope
    entity: str | None        # the entity it points to
    grade: str                # same | worst_minus_one


@dataclass(frozen=True)
class AlertRule:
    meta: Metadata
    scope: str
    category: str
    events: tuple[str, ...]
    schedules: tuple[Schedule, ...]
    grades: tuple[Grade, ...]          # in order yellow → red
    message: Label
    evidence: tuple[Evidence, ...]
    respond_within: Mapping[str, Duration]
    suppress_while_open: bool
    lift_after: Duration | None
    roll_up: RollUp | None
    actions: tuple[Action, ...]

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def grade_names(self) -> tuple[str, ...]:
        return tuple(g.name for g in self.grades)


def _build(doc: Document, ctx: LinkContext) -> AlertRule:
    spec = spec_of(doc)
    scope_name = _subject(doc, ctx)
    scope = subject_scope(ctx, scope_name)
    events, schedules = _triggers(doc, ctx, scope_name)
    grades = _grades(doc, ctx, scope if scope_name else None)
    evidence = []
    for i, e in enumerate(spec.get("evidence") or []):
        path = ("spec", "evidence", i) + (("value",) if isinstance(e, dict) else ())
        value = ctx.expr(doc, path, scope, None) if scope_name else None
        evidence.append(Evidence(Label.of(e.get("label") if isinstance(e, dict) else None), value, doc.span(path)))
    message = spec.get("message")
    for sub, text in ([((), message)] if isinstance(message, str) else list(as_dict(message).items())):
        if isinstance(text, str):
            placeholders(ctx, doc, ("spec", "message") + ((sub,) if sub else ()), text)
    respond = {g: d for g in as_dict(spec.get("respond_within"))            # each one checked by the schema
               if (d := duration_at(doc, ("spec", "respond_within", g))) is not None}
    for g in respond:
        if g not in [x.name for x in grades]:
            ctx.diags.add("BNY604", f"`respond_within.{g}`: the rule has no {g} grade",
                          doc.key_span(("spec", "respond_within", g)), "give a time only for the grades the rule raises")
    if scope_name and not schedules:
        _check_triggers(doc, ctx, scope_name, events, grades)
    if scope_name:
        _check_shadowed(doc, ctx, scope, grades)
    suppress = as_dict(spec.get("suppress"))
    action_scope = {**scope, "grade": FieldInfo(enum(tuple(g.name for g in grades) or GRADES), nullable=False),
                    "alert": FieldInfo(record("alert"), nullable=False)}
    actions = build_actions(doc, ctx, ("spec", "actions"), action_scope, scope_name) if scope_name else ()
    return AlertRule(metadata_of(doc), spec["scope"], spec["category"], events, schedules, tuple(grades),
                     Label.of(message), tuple(evidence), MappingProxyType(respond),
                     bool(suppress.get("while_open", True)), duration_at(doc, ("spec", "suppress", "lift_after")),
                     _roll_up(doc, ctx, scope_name), actions)


def _subject(doc: Document, ctx: LinkContext) -> str | None:
    """What the rule watches: an entity, or the guarantee circles among the companies; None when
    that is unknown or not a subject (reported)."""
    name = resolve_entity(ctx, doc, ("spec", "scope"))
    if name is None or ("Entity", name) in ctx.decls.documents:
        return name
    path = ("spec", "scope")
    if name != CIRCLE:
        ctx.diags.add("BNY608", f"an alert rule cannot watch `{name}`", doc.span(path),
                      "watch an entity's records (company, group, loan …) or `guarantee_circle`")
        return None
    if ("Entity", "company") not in ctx.decls.documents:
        ctx.diags.add("BNY608", "guarantee circles are found among the companies' guarantees, and this bundle "
                                "declares no `company` entity", doc.span(path), "declare the company entity")
        return None
    spec = spec_of(doc)
    for key, why in (("roll_up", "a circle's alert already stands for all its members"),):
        if spec.get(key) is not None:
            ctx.diags.add("BNY608", f"`{key}` on a guarantee circle's rule: {why}", doc.key_span(("spec", key)),
                          f"remove `{key}`")
    for i, action in enumerate(spec.get("actions") or []):
        if isinstance(action, dict) and ("start_flow" in action or "update" in action):
            verb = "start_flow" if "start_flow" in action else "update"
            ctx.diags.add("BNY608", f"`{verb}` on a guarantee circle's rule: a circle is no record a flow or an "
                                    "update can be about", doc.key_span(("spec", "actions", i, verb)),
                          "notify the members' people here; a red member's own rule starts its disposal flow")
    return name


def _names_read(text: str) -> set[str]:
    """The names an expression reads at its top level (not a lambda's parameter)."""
    node = parse_expression(text, span=Span("", 1, 1), diags=Diagnostics())
    if node is None:
        return set()
    params = {n.param for n in walk(node) if isinstance(n, ast.Lambda)}
    return {n.name for n in walk(node) if isinstance(n, ast.Name) and n.name not in params}


def _check_triggers(doc: Document, ctx: LinkContext, scope: str, events: tuple[str, ...], grades: list) -> None:
    """A rule that runs only on events (no `schedule:`) must hear every change its conditions
    read: a collection it reads (`loans`) needs `loans.…`; a field of the subject needs
    `subject.updated`, unless it is computed, when what the computation reads needs hearing
    instead (`net_assets` from `financials`). A warning names each field nothing tells the rule
    about, so the alert would wait for the next scan."""
    heard = {e.partition(".")[0] for e in events}
    subject_heard = bool(heard & {"subject", scope})
    entity = ctx.decls.documents.get(("Entity", scope))
    if entity is None:
        return
    spec = spec_of(entity)
    collections = {c.get("name") for c in spec.get("collections") or [] if isinstance(c, dict)}
    computed: dict[str, str] = {str(f.get("name")): str(f["compute"]) for f in spec.get("fields") or []
                                if isinstance(f, dict) and isinstance(f.get("compute"), str)}
    fields = set(ctx.decls.records.get(scope, {}))

    def missing(name: str, seen: frozenset = frozenset()) -> list[str]:
        if name in collections:
            return [] if name in heard else [name]
        if name in computed and name not in seen:
            return [m for n in sorted(_names_read(computed[name]) & (fields | collections))
                    for m in missing(n, seen | {name})]
        if name in fields:
            return [] if subject_heard else [name]
        return []
    told: set[str] = set()
    for g in grades:
        if g.when is None:
            continue
        roots = {p[1] if p[0] == "subject" and len(p) > 1 else p[0] for p in g.when.paths
                 if not ("alerts" in p and "alert" in heard)}      # alerts read, alert events heard
        for root in sorted(roots):
            gaps = [m for m in missing(root) if m not in told]
            if not gaps:
                continue
            told.update(gaps)
            via = "" if gaps == [root] else f" (it is computed from {', '.join(f'`{m}`' for m in gaps)})"
            hear = ", ".join(f"{m}.updated" if m in collections else "subject.updated" for m in gaps)
            ctx.diags.add("BNY606", f"grade `{g.name}` reads `{root}`{via}, but nothing in `on:` tells the rule "
                          "when it changes: the alert waits for the next scan", g.span,
                          f"add {hear} (or created / changed) to `on:`, or a `schedule:`", severity="warning")


def _check_shadowed(doc: Document, ctx: LinkContext, scope: Mapping[str, FieldInfo], grades: list) -> None:
    """BNY607: a grade whose condition holds only where a higher grade's holds too is never raised
    (the highest grade that holds wins): a yellow stricter than its orange. A warning, decided on
    the conditions' trees (dsl/expr/cases.py); a condition it cannot analyse is left alone."""
    for i, g in enumerate(grades):
        higher = [h for h in grades[i + 1:] if h.when is not None]
        if g.when is None or not higher:
            continue
        found = shadowed(g.when.text, [h.when.text for h in higher], scope, ctx.env)
        if found is None:
            continue
        names = " or ".join(f"`{h.name}`" for h in higher)
        what = ("its condition can never hold" if found == "it never holds" else
                f"whenever it holds, {names} holds too ({found}), and the highest grade wins")
        ctx.diags.add("BNY607", f"grade `{g.name}` is never raised: {what}", g.span,
                      f"make `{g.name}` the looser condition (a {g.name} threshold short of the higher grade's), "
                      "or remove it", severity="warning")


def _triggers(doc: Document, ctx: LinkContext, scope: str | None) -> tuple[tuple[str, ...], tuple[Schedule, ...]]:
    events, schedules = [], []
    for i, item in enumerate(spec_of(doc)["on"]):
        path = ("spec", "on", i)
        if isinstance(item, str):
            check_event(ctx, doc, path, scope, item, alerts=True)
            events.append(item)
            continue
        s = parse_schedule(item["schedule"], doc.span(path + ("schedule",)))
        if s is None:
            ctx.diags.add("BNY208", f"`{item['schedule']}` is not a schedule this engine can run",
                          doc.span(path + ("schedule",)), "hours 0-23, minutes 0-59, cron fields in range")
        else:
            schedules.append(s)
    return tuple(events), tuple(schedules)


def _grades(doc: Document, ctx: LinkContext, scope) -> list[Grade]:
    written = list(as_dict(spec_of(doc).get("grades")))
    out, highest = [], -1
    for name in written:
        path = ("spec", "grades", name)
        rank = GRADES.index(name)
        if rank < highest:
            ctx.diags.add("BNY604", f"grade `{name}` is written after `{GRADES[highest]}`", doc.key_span(path),
                          "write the grades in the order yellow, orange, red")
        highest = max(highest, rank)
        when = ctx.expr(doc, path, scope, BOOL) if scope is not None else None
        out.append(Grade(name, when, doc.span(path)))
    return sorted(out, key=lambda g: GRADES.index(g.name))


def _roll_up(doc: Document, ctx: LinkContext, scope: str | None) -> RollUp | None:
    r = spec_of(doc).get("roll_up")
    if r is None:
        return None
    path = ("spec", "roll_up", "to")
    fields = ctx.decls.records.get(scope, {}) if scope else {}
    info = fields.get(r["to"])
    entity = None
    if scope and info is None:
        ctx.diags.add("BNY404", f"`{scope}` has no field `{r['to']}`", doc.span(path), did_you_mean(r["to"], fields))
    elif info is not None and not isinstance(info.type, RecordType):
        ctx.diags.add("BNY405", f"`{scope}.{r['to']}` is {info.type}, not a reference", doc.span(path),
                      "roll up along a ref field, e.g. `to: group`")
    elif info is not None and isinstance(info.type, RecordType):
        entity = info.type.entity
    return RollUp(r["to"], entity, r.get("grade", "worst_minus_one"))


ALERT_RULE = register(KindDef(
    kind="AlertRule", schema=SCHEMA, order=50, build=_build,
    summary="A graded warning rule (yellow/orange/red) on an entity: triggers, conditions, evidence, suppression, "
            "roll-up to the group, notify and start_flow actions.",
    scaffold="""\
spec:
  scope: company             # the entity watched (or guarantee_circle)
  category: financial
  on: [{schedule: daily 06:00}]
  grades:
    yellow: "count(events where e -> e.type == 'litigation') > 2"
  suppress: {while_open: true, lift_after: 3 months}
""",
))
