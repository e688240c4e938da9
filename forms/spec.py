"""One view over the two things a page can render: an Entity's fields or a Form's.

`FormSpec.of_entity(entity)` and `FormSpec.of_form(form)` give the same shape — fields with
their show/hide condition, read-only flag and widget, sub-table columns, sections and tabs —
so every other module of forms/ reads one structure. Nothing here copies or patches the IR:
each `FieldSpec` holds the IR's `EntityField` as it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dsl.ir import Label

LONG_TYPES = {"text", "table", "multi_enum"}


@dataclass(frozen=True)
class FieldSpec:
    field: Any                   # dsl.kinds.entity.EntityField
    visible_when: Any = None     # CompiledExpr | None
    readonly: bool = False
    placeholder: Label = Label()
    width: int | None = None
    widget: str | None = None
    columns: tuple["FieldSpec", ...] = ()
    min_rows: int | None = None
    max_rows: int | None = None

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def type(self) -> str:
        return self.field.type_name

    @property
    def is_table(self) -> bool:
        return self.field.type_name == "table"

    @property
    def computed(self) -> bool:
        return self.field.compute is not None

    @property
    def editable(self) -> bool:
        return not (self.readonly or self.computed)

    def label(self, lang: str) -> str:
        return self.field.label.text(lang) or self.name

    def span(self, columns: int) -> int:
        """How many layout columns the field takes in a section of `columns`."""
        if self.width:
            return min(self.width, columns)
        return columns if self.type in LONG_TYPES else 1

    @staticmethod
    def of_form_field(ff: Any) -> "FieldSpec":
        return FieldSpec(ff.field, ff.visible_when, ff.readonly, ff.placeholder, ff.width, ff.widget,
                         tuple(FieldSpec.of_form_field(c) for c in ff.columns), ff.min_rows, ff.max_rows)


@dataclass(frozen=True)
class SectionSpec:
    id: str
    label: Label
    columns: int
    fields: tuple[str, ...]
    visible_when: Any = None
    collapsed: bool = False


@dataclass(frozen=True)
class TabSpec:
    id: str
    label: Label
    sections: tuple[str, ...]


@dataclass(frozen=True)
class FormSpec:
    kind: str                       # "entity" or "form"
    name: str
    label: Label
    fields: tuple[FieldSpec, ...]
    sections: tuple[SectionSpec, ...]
    tabs: tuple[TabSpec, ...]
    validations: tuple[Any, ...]    # dsl.kinds.entity.Validation
    compute_order: tuple[str, ...]
    key: str | None = None
    display: str | None = None

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def by_name(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}

    def title(self, lang: str) -> str:
        return self.label.text(lang) or self.name

    @staticmethod
    def of_entity(entity: Any) -> "FormSpec":
        """Stored fields in one two-column section; computed ones in a read-only section after it."""
        fields = tuple(FieldSpec(f, readonly=f.compute is not None) for f in entity.fields)
        stored = tuple(f.name for f in fields if not f.computed)
        computed = tuple(f.name for f in fields if f.computed)
        sections = [SectionSpec("main", Label("基本信息", "Details"), 2, stored)]
        if computed:
            sections.append(SectionSpec("computed", Label("系统计算", "Calculated"), 2, computed))
        return FormSpec("entity", entity.name, entity.meta.label, fields, tuple(sections), (),
                        tuple(entity.validations), tuple(entity.compute_order), entity.key, entity.display)

    @staticmethod
    def of_form(form: Any) -> "FormSpec":
        """The form's own layout; fields in no section follow in a last section."""
        fields = tuple(FieldSpec.of_form_field(f) for f in form.fields)
        sections = [SectionSpec(s.id, s.label, s.columns, s.fields, s.visible_when, s.collapsed)
                    for s in form.sections]
        placed = {n for s in sections for n in s.fields}
        rest = tuple(f.name for f in fields if f.name not in placed)
        if rest:
            sections.append(SectionSpec("_rest", Label("其他", "Other") if sections else Label("基本信息", "Details"),
                                        2, rest))
        tabs = tuple(TabSpec(t.id, t.label, t.sections) for t in form.tabs)
        in_tab = {s for t in tabs for s in t.sections}
        loose = tuple(s.id for s in sections if s.id not in in_tab)
        if tabs and loose:   # sections in no tab come first, as their own tab
            tabs = (TabSpec("_main", Label("基本信息", "Details"), loose),) + tabs
        return FormSpec("form", form.name, form.meta.label, fields, tuple(sections), tabs,
                        tuple(form.validations), tuple(form.compute_order))
