"""The Tiering kind: the group value matrix (集团客户价值矩阵). Dimensions score a subject 0–100
and weigh into `score`; a decision table with a DMN hit policy picks the tier; caps then
lower it (any red alert caps a group at opportunity adjustment); each tier carries the
service package the runtime assigns and supervises."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping, Sequence

from dsl.diagnostics import did_you_mean
from dsl.expr.types import BOOL, NUMBER, EnumType, FieldInfo, enum, record
from dsl.ir import Label, Metadata
from dsl.kinds.events import check_event
from dsl.kinds.meta import metadata_of
from dsl.kinds.parts import Duration, as_dict, duration_at, resolve_entity, spec_of, subject_scope
from dsl.kinds.registry import KindDef, register
from dsl.kinds.schedule import Schedule, parse_schedule
from dsl.kinds.tiering_schema import SCHEMA
from dsl.kinds.tiering_table import check_table
from dsl.link import LinkContext
from dsl.loader import Document
from dsl.source import Span

ALERT_GRADE = enum(("yellow", "orange", "red"))
RESERVED = ("score", "alert_grade", "subject")


@dataclass(frozen=True)
class Dimension:
    name: str
    label: Label
    weight: Decimal | None   # None: no weighted `score` (a pure decision table)
    score: Any               # CompiledExpr giving 0-100
    span: Span


@dataclass(frozen=True)
class ServicePackage:
    label: Label
    lead_role: str | None
    team_roles: tuple[str, ...]
    review_every: Duration | None
    response_within: Duration | None
    benefits: tuple[Label, ...]


@dataclass(frozen=True)
class Tier:
    name: str
    label: Label
    rank: int                # 0 is the best
    service_package: ServicePackage | None
    span: Span


@dataclass(frozen=True)
class TableRule:
    when: Any                # CompiledExpr | None (always)
    tier: str
    label: Label
    span: Span


@dataclass(frozen=True)
class Cap:
    when: Any
    at_most: str
    reason: Label
    span: Span


@dataclass(frozen=True)
class Override:
    """The subject's fields that hold a person's tier decision: the tier, why, and its last day."""
    tier: str
    reason: str | None
    until: str | None


@dataclass(frozen=True)
class ServiceRequests:
    """`service_requests: {flow, step}`: the flow by which a client asks for service, answered at
    `step` within the subject's tier's `response_within` (the step's own deadline otherwise)."""
    flow: str
    step: str
    via: str | None          # the field of the flow's subject that names the tiering's subject (a
                             # member's `group`); None: the flow is about the tiering's subject itself


@dataclass(frozen=True)
class Tiering:
    meta: Metadata
    subject: str
    assign_to: str | None
    dimensions: tuple[Dimension, ...]
    tiers: tuple[Tier, ...]
    hit_policy: str
    rules: tuple[TableRule, ...]
    caps: tuple[Cap, ...]
    schedule: Schedule | None
    triggers: tuple[str, ...]
    aggregate: str | None = None     # collect: min (the worst tier that holds) | max (the best)
    review_flow: str | None = None   # started about each subject every `review_every` of its tier
    override: Override | None = None
    service_requests: ServiceRequests | None = None

    @property
    def weighted(self) -> bool:
        return bool(self.dimensions) and all(d.weight is not None for d in self.dimensions)

    @property
    def name(self) -> str:
        return self.meta.name

    def tier(self, name: str) -> Tier | None:
        return next((t for t in self.tiers if t.name == name), None)


def _build(doc: Document, ctx: LinkContext) -> Tiering:
    spec = spec_of(doc)
    subject = resolve_entity(ctx, doc, ("spec", "subject"))
    base = subject_scope(ctx, subject)
    dims = _dimensions(doc, ctx, base if subject else None)
    weighted = bool(dims) and all(d.weight is not None for d in dims)
    tiers = _tiers(doc, ctx)
    names = [t.name for t in tiers]
    table_scope = table_scope_of(base if subject else {}, dims, subject)
    table = spec["table"]
    policy = table.get("hit_policy", "first")
    aggregate = table.get("aggregate", "min") if policy == "collect" else None
    rules = []
    for i, r in enumerate(table["rules"]):
        path: tuple[str | int, ...] = ("spec", "table", "rules", i)
        _tier_ref(doc, ctx, path + ("tier",), names)
        when = ctx.expr(doc, path + ("when",), table_scope, BOOL) if "when" in r and subject else None
        if when is not None and not weighted and "score" in when.names:
            _unweighted_score(doc, ctx, path + ("when",))
        rules.append(TableRule(when, r["tier"], Label.of(r.get("label")), doc.span(path)))
    if subject and all(r.when is not None for r, w in zip(rules, table["rules"]) if "when" in w):
        check_table(doc, ctx, policy, table_scope)
    caps = []
    for i, c in enumerate(spec.get("caps") or []):
        path = ("spec", "caps", i)
        _tier_ref(doc, ctx, path + ("at_most",), names)
        when = ctx.expr(doc, path + ("when",), table_scope, BOOL) if subject else None
        if when is not None and not weighted and "score" in when.names:
            _unweighted_score(doc, ctx, path + ("when",))
        caps.append(Cap(when, c["at_most"], Label.of(c.get("reason")), doc.span(path)))
    _check_assign_to(doc, ctx, subject, names)
    schedule = None
    if "schedule" in spec:
        schedule = parse_schedule(spec["schedule"], doc.span(("spec", "schedule")))
        if schedule is None:
            ctx.diags.add("BNY208", f"`{spec['schedule']}` is not a schedule this engine can run",
                          doc.span(("spec", "schedule")), "hours 0-23, minutes 0-59, cron fields in range")
    for i, event in enumerate(spec.get("on") or []):
        check_event(ctx, doc, ("spec", "on", i), subject, event, alerts=True)
    review_flow = _review_flow(doc, ctx, subject)
    return Tiering(metadata_of(doc), subject or spec["subject"], spec.get("assign_to"), tuple(dims), tuple(tiers),
                   policy, tuple(rules), tuple(caps), schedule, tuple(spec.get("on") or ()), aggregate, review_flow,
                   _override(doc, ctx, subject, names), _service_requests(doc, ctx, subject))


def _override(doc: Document, ctx: LinkContext, subject: str | None, names: list[str]) -> Override | None:
    """`override: {tier, reason, until}`: fields of the subject of the right types."""
    written = spec_of(doc).get("override")
    if not written:
        return None
    fields = ctx.decls.records.get(subject or "", {})
    wanted = {"tier": "enum", "reason": "string", "until": "date"}
    for part, kind in wanted.items():
        name = written.get(part)
        if name is None or not subject:
            continue
        path = ("spec", "override", part)
        info = fields.get(name)
        if info is None:
            ctx.diags.add("BNY404", f"`{subject}` has no field `{name}`", doc.span(path), did_you_mean(name, fields))
        elif part == "tier" and not (isinstance(info.type, EnumType) and set(names) <= set(info.type.values)):
            ctx.diags.add("BNY405", f"`{subject}.{name}` must be an enum field holding every tier", doc.span(path),
                          "give it the tiers as its values")
        elif part != "tier" and info.type.name != kind:
            ctx.diags.add("BNY405", f"`{subject}.{name}` is {info.type}, not a {kind}", doc.span(path),
                          f"name a {kind} field")
    return Override(written["tier"], written.get("reason"), written.get("until"))


def _review_flow(doc: Document, ctx: LinkContext, subject: str | None) -> str | None:
    """`reviews: {flow}`: a flow about the tiering's subject."""
    name = (spec_of(doc).get("reviews") or {}).get("flow")
    if name is None:
        return None
    path = ("spec", "reviews", "flow")
    if not ctx.resolve("Flow", name, doc, path):
        return None
    flow = ctx.decls.documents.get(("Flow", name))
    about = spec_of(flow).get("subject") if flow is not None else None
    if subject and about != subject:
        ctx.diags.add("BNY405", f"flow `{name}` is about {about or 'no record'}, not the tiering's {subject}",
                      doc.span(path), f"name a flow whose `subject:` is {subject}")
    return name


def _service_requests(doc: Document, ctx: LinkContext, subject: str | None) -> ServiceRequests | None:
    """`service_requests: {flow, step}`: a flow about the tiering's subject or about the records of
    one of its collections (a group's members), and a human step of it with a deadline of its own."""
    written = spec_of(doc).get("service_requests")
    if not written:
        return None
    name, step = written["flow"], written["step"]
    path = ("spec", "service_requests")
    if not ctx.resolve("Flow", name, doc, path + ("flow",)):
        return None
    flow = spec_of(ctx.decls.documents[("Flow", name)])
    about, via = flow.get("subject"), None
    if subject and about != subject:
        entity = ctx.decls.documents.get(("Entity", subject))
        links = [c for c in (spec_of(entity).get("collections") or []) if c.get("entity") == about] if entity else []
        if not links:
            ctx.diags.add("BNY405", f"flow `{name}` is about {about or 'no record'}: neither the tiering's {subject} "
                                    f"nor the records of one of its collections", doc.span(path + ("flow",)),
                          f"name a flow whose `subject:` is {subject} or a {subject}'s member")
            return None
        via = links[0].get("via")
    nodes = {n.get("id"): n for n in flow.get("nodes") or [] if isinstance(n, dict)}
    node = nodes.get(step)
    if node is None:
        ctx.diags.add("BNY501", f"flow `{name}` has no step `{step}`", doc.span(path + ("step",)),
                      did_you_mean(step, [n for n in nodes if n]) or "name one of its task or approval steps")
        return None
    if node.get("type") not in ("task", "approval"):
        ctx.diags.add("BNY405", f"step `{step}` of flow `{name}` is {node.get('type')} step, not a task or an "
                                "approval", doc.span(path + ("step",)), "name the step a person answers")
        return None
    if "deadline" not in node:
        ctx.diags.add("BNY611", f"step `{step}` of flow `{name}` has no deadline of its own", doc.span(path + ("step",)),
                      "give the step a `deadline:`: it applies to a client with no tier, or whose package "
                      "promises no `response_within`")
    return ServiceRequests(name, step, via)


def table_scope_of(base: Mapping[str, FieldInfo], dims: Sequence[Dimension], subject: str | None
                   ) -> dict[str, FieldInfo]:
    """What a table rule or a cap reads: the subject's fields by bare name (and as `subject`),
    each dimension's score, `score` (the weighted total) and `alert_grade` (the subject's worst
    open alert). A dimension named like a field hides it in the table (the field stays readable
    as `subject.<field>`): tables read dimensions first, as they did before fields were visible."""
    scope = dict(base)
    scope.update({d.name: FieldInfo(NUMBER, nullable=False) for d in dims})
    scope.update(score=FieldInfo(NUMBER, nullable=False), alert_grade=FieldInfo(ALERT_GRADE))
    if subject:
        scope["subject"] = FieldInfo(record(subject), nullable=False)
    return scope


def _unweighted_score(doc: Document, ctx: LinkContext, path: tuple) -> None:
    ctx.diags.add("BNY601", "`score` is the weighted total of the dimensions, but the dimensions have no weights",
                  doc.expr_span(path), "give every dimension a `weight` (adding up to 100), or compare the "
                                       "dimensions' own scores")


def _dimensions(doc: Document, ctx: LinkContext, scope) -> list[Dimension]:
    """The scored dimensions. Weights are all given (adding up to 100: `score` is their weighted
    total) or all left out (a pure decision table over the dimensions needs none)."""
    out, total = [], Decimal(0)
    written = as_dict(spec_of(doc).get("dimensions"))
    for name, d in written.items():
        path = ("spec", "dimensions", name)
        if name in RESERVED:
            ctx.diags.add("BNY402", f"`{name}` is a reserved name in the decision table", doc.key_span(path),
                          "rename the dimension")
        weight = Decimal(str(d["weight"])) if "weight" in d else None
        total += weight or 0
        score = ctx.expr(doc, path + ("score",), scope, NUMBER) if scope is not None else None
        out.append(Dimension(name, Label.of(d.get("label")), weight, score, doc.key_span(path)))
    given = [d for d in out if d.weight is not None]
    if given and len(given) < len(out):
        missing = ", ".join(f"`{d.name}`" for d in out if d.weight is None)
        ctx.diags.add("BNY601", f"some dimensions have a weight and {missing} not",
                      doc.key_span(("spec", "dimensions")),
                      "give every dimension a weight (adding up to 100), or none (then `score` is not available)")
    elif given and total != 100:
        listed = " + ".join(f"{d.weight.normalize():f}" for d in given if d.weight is not None)
        ctx.diags.add("BNY601", f"the weights add up to {total.normalize():f}, not 100 ({listed})",
                      doc.key_span(("spec", "dimensions")), "adjust the weights so they add up to 100")
    return out


def _tiers(doc: Document, ctx: LinkContext) -> list[Tier]:
    out: list[Tier] = []
    for i, t in enumerate(spec_of(doc)["tiers"]):
        path = ("spec", "tiers", i)
        if any(x.name == t["name"] for x in out):
            ctx.diags.add("BNY402", f"tier `{t['name']}` is declared twice", doc.span(path + ("name",)),
                          "each tier once")
            continue
        out.append(Tier(t["name"], Label.of(t.get("label")), len(out), _package(doc, ctx, t, path), doc.span(path)))
    return out


def _package(doc: Document, ctx: LinkContext, t: dict, path) -> ServicePackage | None:
    p = t.get("service_package")
    if p is None:
        return None
    ppath = path + ("service_package",)
    if "lead_role" in p:
        ctx.resolve("Role", p["lead_role"], doc, ppath + ("lead_role",))
    team = tuple(r for j, r in enumerate(p.get("team_roles") or []) if ctx.resolve("Role", r, doc, ppath + ("team_roles", j)))
    return ServicePackage(Label.of(p.get("label")), p.get("lead_role"), team, duration_at(doc, ppath + ("review_every",)),
                          duration_at(doc, ppath + ("response_within",)),
                          tuple(Label.of(b) for b in p.get("benefits") or ()))


def _tier_ref(doc: Document, ctx: LinkContext, path, names: list[str]) -> None:
    from dsl.kinds.parts import get
    name = get(doc.data, path)
    if name not in names:
        ctx.diags.add("BNY602", f"unknown tier `{name}`", doc.span(path),
                      did_you_mean(str(name), names) or f"declared tiers: {', '.join(names)}")


def _check_assign_to(doc: Document, ctx: LinkContext, subject: str | None, names: list[str]) -> None:
    field = spec_of(doc).get("assign_to")
    if field is None or subject is None:
        return
    path = ("spec", "assign_to")
    fields = ctx.decls.records.get(subject, {})
    info = fields.get(field)
    if info is None:
        ctx.diags.add("BNY404", f"`{subject}` has no field `{field}`", doc.span(path), did_you_mean(field, fields))
    elif not isinstance(info.type, EnumType):
        ctx.diags.add("BNY405", f"`{subject}.{field}` is {info.type}, but the tier goes into an enum field",
                      doc.span(path), "name an enum field whose values are the tiers")
    else:
        for name in names:
            if name not in info.type.values:
                ctx.diags.add("BNY602", f"tier `{name}` is not a value of `{subject}.{field}`", doc.span(path),
                              f"add `{name}` to the field's values, or rename the tier")


TIERING = register(KindDef(
    kind="Tiering", schema=SCHEMA, order=40, build=_build,
    summary="Client tiering: weighted dimensions (adding to 100), a decision table with a hit policy, caps, "
            "tiers with service packages, a schedule.",
    scaffold="""\
spec:
  subject: org_unit          # the entity to tier, e.g. group
  dimensions:
    size: {weight: 60, score: "if type == 'branch' then 80 else 40"}
    reach: {weight: 40, score: "50"}
  tiers:
    - {name: core, label: {zh: 核心, en: Core}}
    - {name: other, label: {zh: 其他, en: Other}}
  table:
    hit_policy: first
    rules:
      - {when: "score >= 60", tier: core}
      - {tier: other}
  schedule: monthly 1 06:00
""",
))
