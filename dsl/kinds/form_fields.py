"""Building a Form's fields: the Entity field rules, plus visibility and sub-table columns.

A form's field conditions see the form's other fields by name; a sub-table column's
conditions see the row's columns by name and the whole form as `form`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from dsl.diagnostics import did_you_mean
from dsl.expr.types import BOOL, FieldInfo, list_of, record
from dsl.ir import Label
from dsl.kinds.entity import EntityField, EnumValue, field_type
from dsl.kinds.entity_rules import _check_options, _default
from dsl.kinds.parts import get
from dsl.link import BUILTIN_RECORDS, LinkContext
from dsl.loader import Document, Path
from dsl.source import Span

_ORDERED = {"integer", "number", "money", "percent", "date", "datetime", "duration"}


@dataclass(frozen=True)
class FormField:
    """One input of a form: the entity-style field (type, rules, money currency and scale)
    plus how it is shown. A `table` field holds rows of `columns`."""

    field: EntityField
    visible_when: Any           # CompiledExpr | None: hidden while false; hidden means not required
    readonly: bool
    placeholder: Label
    width: int | None
    widget: str | None
    columns: tuple["FormField", ...]
    min_rows: int | None
    max_rows: int | None
    span: Span

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def is_table(self) -> bool:
        return self.field.type_name == "table"


def row_record(form: str, table: str) -> str:
    """The record type name of a sub-table's rows: `credit_application.guarantors`."""
    return f"{form}.{table}"


def declared_fields(form: str, fields: list, records: dict) -> dict[str, FieldInfo]:
    """The record type of a form (and of its sub-tables' rows), for the declare pass."""
    out: dict[str, FieldInfo] = {}
    for f in fields:
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            continue
        if f.get("type") == "table":
            row = row_record(form, f["name"])
            columns = f.get("columns")
            records[row] = declared_fields(row, columns if isinstance(columns, list) else [], records)
            out[f["name"]] = FieldInfo(list_of(record(row)), nullable=False)
            continue
        t, _ = field_type(str(f.get("type")), f.get("values"))
        if t is not None:
            out[f["name"]] = FieldInfo(t, nullable=not f.get("required", False))
    return out


def build_form_fields(doc: Document, ctx: LinkContext, path: Path, scope: Mapping[str, FieldInfo],
                      row_of: str | None = None) -> list[FormField]:
    out: list[FormField] = []
    seen: dict[str, int] = {}
    for i, f in enumerate(get(doc.data, path) or []):
        fpath = path + (i,)
        name = f["name"]
        if name in seen:
            ctx.diags.add("BNY402", f"field `{name}` is declared twice", doc.span(fpath + ("name",)),
                          f"the first is field #{seen[name] + 1}; rename or remove one")
            continue
        seen[name] = i
        out.append(_build_one(doc, ctx, f, fpath, scope, row_of))
    return out


def _build_one(doc: Document, ctx: LinkContext, f: dict, path: Path, scope, row_of: str | None) -> FormField:
    declared = f["type"]
    type_name = "ref" if declared.startswith("ref(") else declared
    columns: tuple[FormField, ...] = ()
    if type_name == "table":
        row = row_record(row_of or doc.ref[1], f["name"])
        # declared in the declare pass; not in scope only when an Entity took the form's name (BNY402)
        t, ref = scope[f["name"]].type if f["name"] in scope else list_of(record(row)), None
        if "columns" not in f:
            ctx.diags.add("BNY204", f"table field `{f['name']}` is missing the required key `columns`",
                          doc.key_span(path + ("type",)), "add `columns:` listing the fields of each row")
        else:
            row_scope = dict(ctx.decls.records.get(row, {}))
            row_scope.setdefault("form", FieldInfo(record(doc.ref[1]), nullable=False))
            columns = tuple(build_form_fields(doc, ctx, path + ("columns",), row_scope, row))
    else:
        t, ref = field_type(declared, f.get("values"))
        if ref is not None:
            ctx.resolve("Entity", ref, doc, path + ("type",), builtins=BUILTIN_RECORDS)
        for key in ("columns", "min_rows", "max_rows"):
            if key in f:
                ctx.diags.add("BNY407", f"`{key}` applies only to a table field", doc.key_span(path + (key,)),
                              "remove it, or make the field `type: table`")
    _check_options(doc, ctx, f, path, type_name)
    lo, hi = f.get("min_rows"), f.get("max_rows")
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        ctx.diags.add("BNY209", f"min_rows {lo} is greater than max_rows {hi}", doc.span(path + ("min_rows",)), "swap them")
    values = tuple(EnumValue(v if isinstance(v, str) else v["value"], Label.of(v.get("label") if isinstance(v, dict) else v))
                   for v in f.get("values") or [])
    literal_type = t if type_name in _ORDERED else None
    base = EntityField(
        name=f["name"], type_name=type_name, type=t, ref=ref, label=Label.of(f.get("label")), help=Label.of(f.get("help")),
        required=bool(f.get("required", False)),
        required_when=_cond(doc, ctx, path + ("required_when",), scope, f),
        unique=bool(f.get("unique", False)), index=bool(f.get("index", False)),
        default=_default(doc, ctx, f, path, t, type_name) if type_name != "table" else None,
        min=ctx.literal(doc, path + ("min",), literal_type) if "min" in f else None,
        max=ctx.literal(doc, path + ("max",), literal_type) if "max" in f else None,
        min_length=f.get("min_length"), max_length=f.get("max_length"), pattern=f.get("pattern"), values=values,
        currency=f.get("currency", "CNY" if type_name == "money" else None),
        scale=f.get("scale", 2 if type_name == "money" else None),
        compute=ctx.expr(doc, path + ("compute",), scope, t) if "compute" in f else None,
        check=_cond(doc, ctx, path + ("check",), scope, f), check_message=Label.of(f.get("check_message")),
        on_hidden=f.get("on_hidden", "clear"), span=doc.span(path))
    return FormField(base, _cond(doc, ctx, path + ("visible_when",), scope, f), bool(f.get("readonly", False)),
                     Label.of(f.get("placeholder")), f.get("width"), f.get("widget"), columns,
                     f.get("min_rows"), f.get("max_rows"), doc.span(path))


def _cond(doc: Document, ctx: LinkContext, path: Path, scope, f: dict):
    return ctx.expr(doc, path, scope, BOOL) if path[-1] in f else None


def check_names(ctx: LinkContext, doc: Document, path: Path, names, known, what: str = "field") -> None:
    for j, name in enumerate(names or []):
        if name not in known:
            ctx.diags.add("BNY404", f"`{name}` names no {what} of {doc.name}", doc.span(path + (j,)),
                          did_you_mean(name, known))
