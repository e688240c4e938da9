"""The Form kind: what people fill in at a flow step, beyond an entity's own fields.

Its IR is what the web renderer and the server-side validator share: each field's compiled
`visible_when` and `required_when` decide show/hide and required alike in the browser and
on the server; a hidden field is never required, and `on_hidden` says whether its value is
cleared (default) or kept. Money fields carry currency and scale."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dsl.diagnostics import did_you_mean
from dsl.expr.types import BOOL
from dsl.ir import Label, Metadata
from dsl.kinds.entity_rules import build_validations, compute_order
from dsl.kinds.form_fields import FormField, build_form_fields, check_names, declared_fields
from dsl.kinds.form_schema import SCHEMA
from dsl.kinds.meta import metadata_of
from dsl.kinds.parts import as_list, spec_of
from dsl.kinds.registry import KindDef, register
from dsl.link import Declarations, LinkContext
from dsl.loader import Document
from dsl.source import Span


@dataclass(frozen=True)
class Section:
    id: str
    label: Label
    columns: int
    fields: tuple[str, ...]
    visible_when: Any
    collapsed: bool
    span: Span


@dataclass(frozen=True)
class Tab:
    id: str
    label: Label
    sections: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class Form:
    meta: Metadata
    fields: tuple[FormField, ...]
    sections: tuple[Section, ...]
    tabs: tuple[Tab, ...]
    validations: tuple[Any, ...]     # entity.Validation
    compute_order: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.meta.name

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)


def _declare(doc: Document, decls: Declarations) -> None:
    spec, name = spec_of(doc), doc.ref[1]
    decls.records[name] = declared_fields(name, as_list(spec.get("fields")), decls.records)


def _build(doc: Document, ctx: LinkContext) -> Form:
    _, name = doc.ref
    if ctx.exists("Entity", name):
        ctx.diags.add("BNY402", f"`{name}` is both an Entity and a Form", doc.span(("metadata", "name")),
                      "forms and entities share one namespace of record types; rename the form")
    scope = ctx.decls.records.get(name, {})
    fields = build_form_fields(doc, ctx, ("spec", "fields"), scope)
    names = {f.name for f in fields}
    sections, tabs = _layout(doc, ctx, names, scope)
    validations = build_validations(doc, ctx, names)
    order = compute_order(doc, ctx, [f.field for f in fields])
    return Form(metadata_of(doc), tuple(fields), tuple(sections), tuple(tabs), tuple(validations), order)


def _layout(doc: Document, ctx: LinkContext, names: set[str], scope) -> tuple[list[Section], list[Tab]]:
    layout = spec_of(doc).get("layout") or {}
    sections: list[Section] = []
    placed: dict[str, str] = {}
    for i, s in enumerate(as_list(layout.get("sections"))):
        path = ("spec", "layout", "sections", i)
        if any(x.id == s["id"] for x in sections):
            ctx.diags.add("BNY402", f"section id `{s['id']}` is used twice", doc.span(path + ("id",)),
                          "give each section its own id")
            continue
        check_names(ctx, doc, path + ("fields",), s["fields"], names)
        for j, name in enumerate(s["fields"]):
            if name in placed and name in names:
                ctx.diags.add("BNY402", f"field `{name}` is already placed in section `{placed[name]}`",
                              doc.span(path + ("fields", j)), "a field appears in one section")
            placed.setdefault(name, s["id"])
        visible = ctx.expr(doc, path + ("visible_when",), scope, BOOL) if "visible_when" in s else None
        sections.append(Section(s["id"], Label.of(s.get("label")), s.get("columns", 2), tuple(s["fields"]), visible,
                                bool(s.get("collapsed", False)), doc.span(path)))
    tabs: list[Tab] = []
    section_ids = [s.id for s in sections]
    in_tab: dict[str, str] = {}
    for i, t in enumerate(as_list(layout.get("tabs"))):
        path = ("spec", "layout", "tabs", i)
        if any(x.id == t["id"] for x in tabs):
            ctx.diags.add("BNY402", f"tab id `{t['id']}` is used twice", doc.span(path + ("id",)), "give each tab its own id")
            continue
        for j, sid in enumerate(t["sections"]):
            if sid not in section_ids:
                ctx.diags.add("BNY401", f"unknown section `{sid}`", doc.span(path + ("sections", j)),
                              did_you_mean(sid, section_ids) or "declare it under `layout.sections`")
            elif sid in in_tab:
                ctx.diags.add("BNY402", f"section `{sid}` is already in tab `{in_tab[sid]}`",
                              doc.span(path + ("sections", j)), "a section appears in one tab")
            in_tab.setdefault(sid, t["id"])
        tabs.append(Tab(t["id"], Label.of(t.get("label")), tuple(t["sections"]), doc.span(path)))
    return sections, tabs


FORM = register(KindDef(
    kind="Form", schema=SCHEMA, order=20, declare=_declare, build=_build,
    summary="A form for a flow: entity-style fields, conditional show/hide, sub-tables, sections and tabs.",
    scaffold="""\
spec:
  fields:
    - {name: title, type: string, label: {zh: 标题, en: Title}, required: true}
    - {name: urgent, type: bool, label: {zh: 是否紧急, en: Urgent}, default: false}
    - {name: reason, type: text, label: {zh: 紧急原因, en: Why urgent}, visible_when: "urgent", required_when: "urgent"}
  layout:
    sections:
      - {id: main, label: {zh: 基本信息, en: Basics}, columns: 2, fields: [title, urgent, reason]}
""",
))
