"""The `record` action of a flow's action step: write one record of an entity through the records
service, e.g. book the approved limit as the group's unified facility.

    - record:
        entity: facility
        match: {group: "subject", level: "'group_unified'", status: "'active'"}
        values: {amount: "form.approved_amount", start_date: "today()", …}

The record of `entity` whose fields equal every `match` expression is changed to `values`; when
there is none, one is created from `match` and `values` together (its key, when neither gives
it, is the next free number of the key's `pattern`, e.g. F000042 for `^F[0-9]{6}$`). So a step
that runs again finds what it wrote and writes nothing new. More than one such record is a flow
problem. Every expression is checked against the entity's field it fills."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from dsl.diagnostics import did_you_mean
from dsl.expr.types import FieldInfo
from dsl.kinds.common import EXPRESSION, NAME
from dsl.kinds.parts import as_dict, get
from dsl.link import LinkContext
from dsl.loader import Document, Path

_VALUES = {"type": "object", "propertyNames": NAME, "additionalProperties": EXPRESSION}
RECORD = {"type": "object", "required": ["entity", "values"], "additionalProperties": False,
          "description": "Create or change one record through the records service: the record of `entity` whose "
                         "fields equal `match`, changed to `values`; created from both when there is none.",
          "properties": {"entity": {**NAME, "description": "The entity written (e.g. facility)."},
                         "match": {**_VALUES, "description": "{field: expression}: which record to change."},
                         "values": {**_VALUES, "minProperties": 1,
                                    "description": "{field: expression}: the values written."}}}

UPDATE = {"type": "object", "required": ["entity", "match", "values"], "additionalProperties": False,
          "description": "Change every record of `entity` whose fields equal `match` to `values`, through the records "
                         "service (e.g. freeze the subject's active facilities); none matching changes nothing.",
          "properties": {"entity": {**NAME, "description": "The entity changed (e.g. facility)."},
                         "match": {**_VALUES, "minProperties": 1,
                                   "description": "{field: expression}: the records changed, e.g. "
                                                  "{borrower: subject, status: \"'active'\"}."},
                         "values": {**_VALUES, "minProperties": 1,
                                    "description": "{field: expression}: the values written."}}}


@dataclass(frozen=True)
class WriteRecord:
    entity: str
    match: tuple[tuple[str, Any], ...]       # (field, CompiledExpr)
    values: tuple[tuple[str, Any], ...]


def build_record(doc: Document, ctx: LinkContext, path: Path, scope: Mapping[str, FieldInfo], *,
                 update: bool = False) -> WriteRecord:
    """A `record` action (find or create one) or, with `update`, an `update` action (change every
    match: a matched field may be written, `status: active` → `frozen`)."""
    spec = get(doc.data, path)
    entity = spec["entity"]
    fields: Mapping[str, FieldInfo] = {}
    if ctx.resolve("Entity", entity, doc, path + ("entity",)):
        fields = ctx.decls.records.get(entity, {})
    parts: dict[str, list[tuple[str, Any]]] = {"match": [], "values": []}
    for part in parts:
        for key in as_dict(spec.get(part)):
            kpath = path + (part, key)
            if fields and key not in fields:
                ctx.diags.add("BNY404", f"entity `{entity}` has no field `{key}`", doc.key_span(kpath),
                              did_you_mean(key, fields))
                continue
            compiled = ctx.expr(doc, kpath, scope, fields[key].type if key in fields else None)
            if compiled is not None:
                parts[part].append((key, compiled))
    both = sorted(set(as_dict(spec.get("match"))) & set(as_dict(spec.get("values"))))
    if both and not update:
        ctx.diags.add("BNY407", f"`{both[0]}` is both matched and written", doc.key_span(path + ("values", both[0])),
                      "a matched field keeps its value: remove it from `values`")
    return WriteRecord(entity, tuple(parts["match"]), tuple(parts["values"]))
