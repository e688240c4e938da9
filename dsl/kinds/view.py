"""The View kind: 360° pages and dashboards over one subject (the group view: registration,
equity, accounts, loans, products, ratings, limits, guarantees, litigation, news). Each
section shows fields, a table of records, metrics, a graph or a timeline; everything shown
is a field name or a compiled expression, so a view can never show a field that is gone."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dsl.diagnostics import a, did_you_mean
from dsl.expr.types import BOOL, FieldInfo, ListType, RecordType
from dsl.ir import Label, Metadata
from dsl.kinds import view_functions  # noqa: F401  (registers flatten())
from dsl.kinds.common import EXPRESSION, LABEL, NAME, ROLE_LIST, envelope
from dsl.kinds.meta import metadata_of
from dsl.kinds.parts import CONDITION, ID, NAME_LIST, resolve_entity, spec_of, subject_scope
from dsl.kinds.registry import KindDef, register
from dsl.link import LinkContext
from dsl.loader import Document
from dsl.source import Span

SECTION_TYPES = ["fields", "table", "metrics", "graph", "timeline", "alerts", "flows", "changes"]
_KEYS = {"fields": {"fields"}, "table": {"rows", "where", "columns", "sort", "limit"}, "metrics": {"metrics"},
         "graph": {"graph", "depth"}, "timeline": {"rows", "where", "columns", "limit"}, "alerts": {"on", "limit"},
         "flows": {"on", "limit"}, "changes": {"on", "limit"}}
_NEEDS = {"fields": ("fields",), "table": ("rows", "columns"), "metrics": ("metrics",), "graph": ("graph",),
          "timeline": ("rows", "columns"), "alerts": (), "flows": (), "changes": ()}

SECTION = {
    "type": "object", "required": ["id", "type"], "additionalProperties": False,
    "properties": {
        "id": ID, "label": LABEL,
        "type": {"enum": SECTION_TYPES, "description": "fields (the subject's fields), table (records), metrics "
                                                       "(figures), graph (equity or guarantee network), timeline "
                                                       "(records by date), alerts (the open alerts on the subject "
                                                       "and on the records of its collections named in `on`), flows "
                                                       "(the approvals and reviews running about them: where each "
                                                       "stands and who holds it), changes (their latest changes "
                                                       "from the audit log: who, when, what from → to)."},
        "fields": {**NAME_LIST, "minItems": 1, "description": "fields: the subject's fields shown."},
        "rows": {**EXPRESSION, "description": "table, timeline: an expression giving a list of records, e.g. "
                                              "`facilities`, `flatten(members.loans)`."},
        "where": {**CONDITION, "description": "table, timeline: keep the rows for which this holds; sees the row's "
                                             "fields by name, e.g. \"type == 'litigation'\"."},
        "columns": {**NAME_LIST, "minItems": 1, "description": "table, timeline: fields of each row."},
        "sort": {"type": "object", "required": ["by"], "additionalProperties": False,
                 "properties": {"by": NAME, "order": {"enum": ["asc", "desc"]}}},
        "limit": {"type": "integer", "minimum": 1, "description": "table, timeline, alerts, flows, changes: the rows "
                                                                  "shown on one page (the rest on the next pages)."},
        "on": {**NAME_LIST, "description": "alerts, flows, changes: collections of the subject (e.g. `members`) "
                                           "whose records' open alerts, running flows or changes are shown beside "
                                           "the subject's own."},
        "metrics": {"type": "array", "minItems": 1,
                    "items": {"type": "object", "required": ["label", "value"], "additionalProperties": False,
                              "properties": {"label": LABEL, "value": EXPRESSION,
                                             "warn_when": {**CONDITION, "description": "Highlight the figure when this "
                                                                                       "holds (sees `value`)."}}}},
        "graph": {"enum": ["equity", "guarantee", "org"], "description": "Which network to draw around the subject."},
        "depth": {"type": "integer", "minimum": 1, "maximum": 10, "description": "graph: how many hops to draw."},
        "visible_when": CONDITION,
        "roles": {**ROLE_LIST, "description": "Only these roles see the section (default: everyone who sees the view)."},
        "width": {"enum": ["full", "half"]},
    },
}

VIEW_SPEC = {
    "type": "object", "required": ["subject", "sections"], "additionalProperties": False,
    "properties": {
        "subject": {**NAME, "description": "The entity the page is about; expressions see its fields by name."},
        "title": {**EXPRESSION, "description": "The page title, e.g. \"name\"."},
        "roles": {**ROLE_LIST, "description": "Roles that may open the view (default: everyone who sees the subject)."},
        "sections": {"type": "array", "items": SECTION, "minItems": 1},
    },
}


@dataclass(frozen=True)
class Metric:
    label: Label
    value: Any
    warn_when: Any
    span: Span


@dataclass(frozen=True)
class ViewSection:
    id: str
    type: str
    label: Label
    fields: tuple[str, ...]
    rows: Any                        # CompiledExpr giving a list of records | None
    where: Any                       # CompiledExpr over one row | None
    row_entity: str | None
    columns: tuple[str, ...]
    sort: tuple[str, str] | None
    limit: int | None
    metrics: tuple[Metric, ...]
    graph: str | None
    depth: int | None
    visible_when: Any
    roles: tuple[str, ...]
    width: str
    span: Span
    on: tuple[str, ...] = ()         # alerts, flows, changes: the subject's collections shown too


@dataclass(frozen=True)
class View:
    meta: Metadata
    subject: str
    title: Any
    roles: tuple[str, ...]
    sections: tuple[ViewSection, ...]

    @property
    def name(self) -> str:
        return self.meta.name


def _build(doc: Document, ctx: LinkContext) -> View:
    spec = spec_of(doc)
    subject = resolve_entity(ctx, doc, ("spec", "subject"))
    scope = subject_scope(ctx, subject)
    roles = tuple(r for i, r in enumerate(spec.get("roles") or []) if ctx.resolve("Role", r, doc, ("spec", "roles", i)))
    title = ctx.expr(doc, ("spec", "title"), scope, None) if "title" in spec and subject else None
    sections, seen = [], set()
    for i, s in enumerate(spec["sections"]):
        path = ("spec", "sections", i)
        if s["id"] in seen:
            ctx.diags.add("BNY402", f"section id `{s['id']}` is used twice", doc.span(path + ("id",)), "one id per section")
            continue
        seen.add(s["id"])
        sections.append(_section(doc, ctx, s, path, subject, scope))
    return View(metadata_of(doc), spec["subject"], title, roles, tuple(sections))


def _section(doc: Document, ctx: LinkContext, s: dict, path, subject: str | None, scope) -> ViewSection:
    kind = s["type"]
    for key in _NEEDS[kind]:
        if key not in s:
            ctx.diags.add("BNY204", f"a {kind} section is missing the required key `{key}`", doc.key_span(path + ("type",)),
                          f"see `banyan explain View.spec.sections.{key}`")
    for key in set().union(*_KEYS.values()) - _KEYS[kind]:
        if key in s:
            ctx.diags.add("BNY407", f"`{key}` does not apply to {a(kind)} section", doc.key_span(path + (key,)),
                          f"`{key}` belongs to {' and '.join(k for k, v in _KEYS.items() if key in v)} sections")
    live = subject is not None
    _names(doc, ctx, path + ("fields",), s.get("fields"), scope if live else None, subject)
    if live and s.get("on"):
        _collections(doc, ctx, path + ("on",), s["on"], scope, subject)
    rows, row_entity = None, None
    if "rows" in s and live:
        rows = ctx.expr(doc, path + ("rows",), scope, None)
        t = rows.type if rows is not None else None
        if t is not None and isinstance(t, ListType) and isinstance(t.element, RecordType):
            row_entity = t.element.entity
        elif t is not None and t.name not in ("any", "null"):
            ctx.diags.add("BNY310", f"`rows` gives {t}, not a list of records", doc.span(path + ("rows",)),
                          "name a collection, e.g. `facilities` or `flatten(members.loans)`")
    where = None
    if row_entity:
        row_fields = ctx.decls.records.get(row_entity, {})
        if "where" in s:
            where = ctx.expr(doc, path + ("where",), row_fields, BOOL)
        _names(doc, ctx, path + ("columns",), s.get("columns"), row_fields, row_entity)
        if "sort" in s:
            _names(doc, ctx, path + ("sort",), [s["sort"]["by"]], row_fields, row_entity, key="by")
        if kind == "timeline" and not ctx.env.time_field(row_entity):
            ctx.diags.add("BNY404", f"`{row_entity}` has no time_field to order a timeline by", doc.span(path + ("rows",)),
                          f"declare `time_field:` in the entity {row_entity}, or use a table")
    metrics = []
    for j, m in enumerate(s.get("metrics") or []):
        mpath = path + ("metrics", j)
        value = ctx.expr(doc, mpath + ("value",), scope, None) if live else None
        warn = None
        if "warn_when" in m and live and value is not None:
            warn = ctx.expr(doc, mpath + ("warn_when",), {**scope, "value": FieldInfo(value.type)}, BOOL)
        metrics.append(Metric(Label.of(m["label"]), value, warn, doc.span(mpath)))
    visible = ctx.expr(doc, path + ("visible_when",), scope, BOOL) if "visible_when" in s and live else None
    roles = tuple(r for j, r in enumerate(s.get("roles") or []) if ctx.resolve("Role", r, doc, path + ("roles", j)))
    sort = (s["sort"]["by"], s["sort"].get("order", "asc")) if "sort" in s else None
    return ViewSection(s["id"], kind, Label.of(s.get("label")), tuple(s.get("fields") or ()), rows, where, row_entity,
                       tuple(s.get("columns") or ()), sort, s.get("limit"), tuple(metrics), s.get("graph"),
                       s.get("depth"), visible, roles, s.get("width", "full"), doc.span(path), tuple(s.get("on") or ()))


def _collections(doc: Document, ctx: LinkContext, path, names, scope, entity) -> None:
    """Each of `names` is a collection of the subject (a list of records, such as `members`)."""
    lists = {n for n, info in scope.items() if isinstance(info.type, ListType) and isinstance(info.type.element, RecordType)
             and info.type.element.entity != "alert" and n not in ctx.decls.bank_wide}
    for j, name in enumerate(names):
        if name not in lists:
            ctx.diags.add("BNY404", f"`{entity}` has no collection `{name}`", doc.span(path + (j,)),
                          did_you_mean(name, lists) or f"collections of {entity}: {', '.join(sorted(lists))}")


def _names(doc: Document, ctx: LinkContext, path, names, fields, entity, key=None) -> None:
    if not names or fields is None:
        return
    for j, name in enumerate(names):
        if name not in fields:
            at = path + ((key,) if key else (j,))
            ctx.diags.add("BNY404", f"`{entity}` has no field `{name}`", doc.span(at),
                          did_you_mean(name, fields) or f"fields of {entity}: {', '.join(sorted(fields)[:10])}")


VIEW = register(KindDef(
    kind="View", schema=envelope("View", VIEW_SPEC, "A 360° page or dashboard over one subject."), order=60,
    build=_build, summary="A 360° page over a subject: sections of fields, tables of records, metrics, graphs, timelines.",
    scaffold="""\
spec:
  subject: org_unit          # the entity the page is about, e.g. group
  title: "label"
  sections:
    - {id: basics, label: {zh: 基本信息, en: Basics}, type: fields, fields: [name, type, region]}
""",
))
