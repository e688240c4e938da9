"""A flow's form on the flow pages: the Form of the deployment an instance runs on, narrowed
to what the person may do there, and the values moving between the page, forms/ and the
flow service.

* At the start, fields that a later step owns (listed `editable` at some task or approval)
  are left to that step: not shown, not sent. Everything else is the initiator's to fill.
* At a step, the node's field permissions decide: `editable` fields are inputs, `hidden`
  fields are not rendered at all, every other field is shown read-only; the node's
  `required` fields are required when the step is approved or completed.

The narrowed specs are new FormSpec values built from the compiled one (nothing is patched)."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from forms import FieldError, FormSpec, Submitted, parse, validate
from forms.i18n import message
from forms.rules import Outcome

NUMERIC = {"money", "number", "percent"}


def narrowed(spec: FormSpec, editable: Iterable[str] | None, hidden: Iterable[str] = ()) -> FormSpec:
    """`spec` with only `editable` fields open (None: all that were), `hidden` ones left out of the layout."""
    keep_open = None if editable is None else set(editable)
    gone = set(hidden)
    fields = tuple(f if keep_open is None or f.name in keep_open or f.computed or f.readonly
                   else dataclasses.replace(f, readonly=True) for f in spec.fields)
    fields = tuple(dataclasses.replace(f, readonly=True) if f.name in gone else f for f in fields)
    gone |= {f.name for f in fields if f.is_table and not f.editable}    # read-only tables: read_tables() shows them
    sections = tuple(dataclasses.replace(s, fields=tuple(n for n in s.fields if n not in gone)) for s in spec.sections)
    sections = tuple(s for s in sections if s.fields)
    kept = {s.id for s in sections}
    tabs = tuple(dataclasses.replace(t, sections=tuple(x for x in t.sections if x in kept)) for t in spec.tabs)
    tabs = tuple(t for t in tabs if t.sections)
    return dataclasses.replace(spec, fields=fields, sections=sections, tabs=tabs if len(tabs) > 1 else ())


def read_tables(spec: FormSpec, values: Mapping[str, Any], lang: str, hidden: Iterable[str] = (),
                editable: Iterable[str] = ()) -> list[dict]:
    """The sub-tables a step may not change, for reading: label, column labels, rows of texts."""
    from forms.display import display_text
    skip = set(hidden) | set(editable)
    out = []
    for f in spec.fields:
        if f.is_table and f.name not in skip:
            out.append({"label": f.label(lang), "columns": [c.label(lang) for c in f.columns],
                        "rows": [[display_text(c.field, row.get(c.name), lang) for c in f.columns]
                                 for row in values.get(f.name) or []]})
    return out


def later_fields(flow: Any) -> set[str]:
    """Fields some step of `flow` fills (its `editable` list)."""
    out: set[str] = set()
    for node in flow.nodes:
        access = getattr(node, "fields", None)
        if access is not None:
            out.update(access.editable)
    return out


def start_spec(spec: FormSpec, flow: Any) -> FormSpec:
    later = later_fields(flow)
    opened = [f.name for f in spec.fields if f.name not in later]
    return narrowed(spec, opened, later)


def step_spec(spec: FormSpec, step: Mapping[str, Any]) -> FormSpec:
    access = step.get("fields")
    if access is None:
        return narrowed(spec, [])
    return narrowed(spec, access["editable"], access["hidden"])


def typed_value(field: Any, value: Any) -> Any:
    """A value as the flow service hands it out (decimals and dates as text) → the typed value forms/ uses."""
    if value is None or isinstance(value, (bool, list, dict)):
        return value
    t = field.type_name
    try:
        if t in NUMERIC:
            return Decimal(str(value))
        if t == "integer":
            return int(value)
        if t == "date" and isinstance(value, str):
            return date.fromisoformat(value)
        if t == "datetime" and isinstance(value, str):
            return datetime.fromisoformat(value)
    except (ValueError, InvalidOperation):
        return value
    return value


def typed(spec: FormSpec, form: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in spec.fields:
        v = form.get(f.name)
        if f.is_table:
            out[f.name] = [{c.name: typed_value(c.field, row.get(c.name)) for c in f.columns}
                           for row in (v or []) if isinstance(row, Mapping)]
        else:
            out[f.name] = typed_value(f.field, v)
    return out


def check_start(spec: FormSpec, sub: Submitted, lang: str) -> Outcome:
    """Every rule of the form over what the initiator typed."""
    values, problems = parse(spec, sub, lang)
    outcome = validate(spec, values, lang)
    bad = {e.key for e in outcome.errors}
    outcome.errors[:0] = [p for p in problems if p.key not in bad]
    return outcome


def start_values(spec: FormSpec, outcome: Outcome) -> dict[str, Any]:
    """What goes to the flow service: the filled fields the initiator may fill, and computed ones."""
    return {f.name: outcome.values.get(f.name) for f in spec.fields
            if (f.editable or f.computed) and outcome.values.get(f.name) not in (None, [])}


def check_step(spec: FormSpec, current: Mapping[str, Any], sub: Submitted | None, step: Mapping[str, Any],
               lang: str, deciding: bool) -> Outcome:
    """The form at a step: the instance's values with the person's edits over them, every rule of
    the editable fields, and — when the step is being approved or completed — the node's `required`."""
    edits: dict[str, Any] = {}
    problems: list[FieldError] = []
    if sub is not None:
        edits, problems = parse(spec, sub, lang)
    outcome = validate(spec, {**current, **edits}, lang)
    bad = {e.key for e in outcome.errors}
    outcome.errors[:0] = [p for p in problems if p.key not in bad]
    access = step.get("fields") or {}
    for name in access.get("required", ()):
        if spec.field(name) is None or name in outcome.hidden:
            continue
        outcome.required.add(name)
        v = outcome.values.get(name)
        if deciding and (v is None or v == [] or (isinstance(v, str) and not v.strip())) and \
                name not in {e.key for e in outcome.errors}:
            outcome.errors.append(FieldError((name,), message("required", lang), "required"))
    return outcome


def step_fields(step: Mapping[str, Any], outcome: Outcome) -> dict[str, Any] | None:
    """The editable fields' values, as the step may send them (None when it may change none)."""
    access = step.get("fields") or {}
    names = list(access.get("editable", ()))
    return {n: outcome.values.get(n) for n in names} if names else None
