"""The Entity kind: a record type. Its IR carries compiled rules the runtime and forms run."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from dsl.expr.types import (
    BOOL,
    DATE,
    DATETIME,
    DURATION,
    INTEGER,
    MONEY,
    NUMBER,
    PERCENT,
    STRING,
    FieldInfo,
    Type,
    enum,
    list_of,
    record,
)
from dsl.ir import Label, Metadata
from dsl.kinds.entity_schema import SCHEMA
from dsl.kinds.meta import metadata_of
from dsl.kinds.registry import KindDef, register
from dsl.link import Declarations, LinkContext
from dsl.loader import Document
from dsl.source import Span

_SIMPLE_TYPES: dict[str, Type] = {
    "string": STRING, "text": STRING, "file": STRING, "integer": INTEGER, "number": NUMBER, "money": MONEY,
    "percent": PERCENT, "bool": BOOL, "date": DATE, "datetime": DATETIME, "duration": DURATION,
}
_REF = re.compile(r"^ref\(([a-z][a-z0-9_]*)\)$")
_NUMERIC = {"integer", "number", "money", "percent"}
_ORDERED = _NUMERIC | {"date", "datetime", "duration"}
_TEXTUAL = {"string", "text"}


@dataclass(frozen=True, slots=True)
class EnumValue:
    value: str
    label: Label


@dataclass(frozen=True)
class EntityField:
    name: str
    type_name: str          # as declared, without the ref target: string, money, enum, ref ...
    type: Type              # the expression type
    ref: str | None
    label: Label
    help: Label
    required: bool
    required_when: Any      # CompiledExpr | None
    unique: bool
    index: bool
    default: Any
    min: Any
    max: Any
    min_length: int | None
    max_length: int | None
    pattern: str | None
    values: tuple[EnumValue, ...]
    currency: str | None    # a fixed ISO code; None when each record's `currency_field` says
    scale: int | None
    compute: Any            # CompiledExpr | None
    check: Any              # CompiledExpr | None
    check_message: Label
    on_hidden: str
    span: Span
    currency_field: str | None = None   # `currency: {field: X}`: the enum field X holds the record's currency
    personal: str | None = None         # personal data: its mask (`personal: true` is "generic"), dsl/values/mask.py

    @property
    def computed(self) -> bool:
        return self.compute is not None


@dataclass(frozen=True)
class Collection:
    name: str
    entity: str
    via: str
    label: Label
    span: Span


@dataclass(frozen=True)
class Validation:
    rule: Any               # CompiledExpr
    message: Label
    fields: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class Entity:
    meta: Metadata
    key: str | None
    display: str | None
    time_field: str | None
    fields: tuple[EntityField, ...]
    collections: tuple[Collection, ...]
    validations: tuple[Validation, ...]
    compute_order: tuple[str, ...]   # computed fields, each after the ones it reads
    events: bool = False             # its records arrive from outside as events (runtime/events)
    bank_wide: bool = False          # the bank's own figures: every rule reads them by the entity's name

    @property
    def name(self) -> str:
        return self.meta.name

    def field(self, name: str) -> EntityField | None:
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, EntityField]:
        """The fields by name (the first of a name, as a scan would find it), built once: the pages
        ask for fields by name thousands of times per 360° view."""
        out: dict[str, EntityField] = {}
        for f in self.fields:
            out.setdefault(f.name, f)
        return out


def field_type(type_name: str, values: list | None = None, order: str | None = None) -> tuple[Type | None, str | None]:
    """(expression type, ref target) of a declared field type; (None, None) if unknown. `order`:
    an enum's declared order (ascending | descending)."""
    if type_name in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[type_name], None
    if type_name in ("enum", "multi_enum"):
        names = tuple(_enum_value(v) for v in (values or []) if _enum_value(v))
        t = enum(names, order if type_name == "enum" and order in ("ascending", "descending") else None)
        return (t if type_name == "enum" else list_of(t)), None
    m = _REF.match(type_name or "")
    if m:
        return record(m.group(1)), m.group(1)
    return None, None


def _enum_value(v: Any) -> str | None:
    if isinstance(v, dict):
        v = v.get("value")
    return v if isinstance(v, str) else None


def _declare(doc: Document, decls: Declarations) -> None:
    spec = doc.data.get("spec") if isinstance(doc.data, dict) else None
    if not isinstance(spec, dict):
        return
    fields: dict[str, FieldInfo] = {}
    for f in _list(spec.get("fields")):
        if not isinstance(f, dict) or not isinstance(f.get("name"), str):
            continue
        t, _ = field_type(str(f.get("type")), f.get("values"), f.get("order"))
        if t is not None:
            fields[f["name"]] = FieldInfo(t, nullable=not f.get("required", False))
    for c in _list(spec.get("collections")):
        if isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("entity"), str):
            fields[c["name"]] = FieldInfo(list_of(record(c["entity"])), nullable=False)
    # the record's open alerts, readable in rules (`worst_grade(core_enterprise.alerts) == 'red'`)
    fields.setdefault("alerts", FieldInfo(list_of(record("alert")), nullable=False))
    _, name = doc.ref
    decls.records[name] = fields
    if isinstance(spec.get("time_field"), str):
        decls.time_fields[name] = spec["time_field"]
    if spec.get("bank_wide") is True:
        decls.bank_wide.add(name)


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _build(doc: Document, ctx: LinkContext) -> Entity:
    from dsl.kinds.entity_rules import build_fields, build_validations, check_collections, compute_order
    spec = doc.data["spec"]
    meta = metadata_of(doc)
    fields = build_fields(doc, ctx)
    names = {f.name for f in fields}
    for key in ("key", "display", "time_field"):
        value = spec.get(key)
        if value is not None and value not in names:
            from dsl.diagnostics import did_you_mean
            ctx.diags.add("BNY404", f"`{key}: {value}` names no field of {doc.name}", doc.span(("spec", key)),
                          did_you_mean(value, names))
    _check_key_and_time(doc, ctx, fields)
    collections = check_collections(doc, ctx)
    validations = build_validations(doc, ctx, names)
    order = compute_order(doc, ctx, fields)
    if spec.get("events") and not spec.get("key"):
        ctx.diags.add("BNY407", "an events entity needs a `key`: the event number that makes a resent event "
                                "a duplicate", doc.span(("spec", "events")), "add `key: <the event number field>`")
    return Entity(meta, spec.get("key"), spec.get("display"), spec.get("time_field"), tuple(fields),
                  tuple(collections), tuple(validations), order, bool(spec.get("events")),
                  bool(spec.get("bank_wide")))


def _check_key_and_time(doc: Document, ctx: LinkContext, fields: list[EntityField]) -> None:
    spec = doc.data["spec"]
    by_name = {f.name: f for f in fields}
    key = by_name.get(spec.get("key"))
    if key is not None and not (key.unique and key.required):
        ctx.diags.add("BNY407", f"the key field `{key.name}` must be `required: true` and `unique: true`",
                      key.span, "a key identifies one record: mark it required and unique")
    tf = by_name.get(spec.get("time_field"))
    if tf is not None and tf.type_name not in ("date", "datetime"):
        ctx.diags.add("BNY407", f"`time_field: {tf.name}` is a {tf.type_name}; windows need a date or datetime",
                      doc.span(("spec", "time_field")), "name a date or datetime field")


ENTITY = register(KindDef(
    kind="Entity", schema=SCHEMA, order=10, declare=_declare, build=_build,
    summary="A record type (a table): fields with types, labels and rules; collections; validations.",
    scaffold="""\
spec:
  key: code
  display: name
  fields:
    - {name: code, type: string, label: {zh: 编号, en: Code}, required: true, unique: true}
    - {name: name, type: string, label: {zh: 名称, en: Name}, required: true}
""",
))
