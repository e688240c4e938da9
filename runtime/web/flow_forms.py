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

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping

from dsl.bank_time import zone_name
from dsl.field_rules import Problem
from forms import FieldError, FormSpec, Submitted, parse, validate
from forms.i18n import message
from forms.rules import Outcome, field_errors
from runtime.flows import form_check
from runtime.flows.form_check import later_fields, narrowed, start_spec  # noqa: F401 - the pages' names
from runtime.web.forms import read_first

NUMERIC = {"money", "number", "percent"}


def read_tables(spec: FormSpec, values: Mapping[str, Any], lang: str, hidden: Iterable[str] = (),
                editable: Iterable[str] = (), labels: Mapping[tuple[str, str], str] | None = None) -> list[dict]:
    """The sub-tables a step may not change, for reading: label, column labels, rows of cells
    ({text, code}: a `ref` value reads as the name in `labels`, its key as the code beside it)."""
    from forms.display import display_text
    skip = set(hidden) | set(editable)
    out = []
    for f in spec.fields:
        if f.is_table and f.name not in skip:
            out.append({"name": f.name, "label": f.label(lang), "columns": [c.label(lang) for c in f.columns],
                        "rows": [[_cell(c.field, row.get(c.name), lang, labels or {}, display_text) for c in f.columns]
                                 for row in _rows(values.get(f.name))]})
    return out


def _cell(f: Any, value: Any, lang: str, labels: Mapping[tuple[str, str], str], display_text: Any) -> dict:
    name = labels.get((f.ref or "", str(value))) if f.type_name == "ref" and value not in (None, "") else None
    if name is not None and name != str(value):
        return {"text": name, "code": str(value)}
    return {"text": display_text(f, value, lang), "code": ""}


def _rows(value: Any) -> list[Mapping[str, Any]]:
    """A stored sub-table's rows (a value stored before it was checked may be anything)."""
    return [r for r in value if isinstance(r, Mapping)] if isinstance(value, (list, tuple)) else []


def step_spec(spec: FormSpec, step: Mapping[str, Any]) -> FormSpec:
    """The form at a task page's step (`step`: the service's step rules, `fields` its access)."""
    return form_check.step_spec(spec, step.get("fields"))


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
                           for row in _rows(v)]
        else:
            out[f.name] = typed_value(f.field, v)
    return out


def check_start(spec: FormSpec, sub: Submitted, lang: str) -> Outcome:
    """Every rule of the form over what the initiator typed."""
    values, problems = parse(spec, sub, lang, tz=zone_name())
    outcome = read_first(validate(spec, values, lang), problems)
    outcome.unread = problems
    return outcome


def start_values(spec: FormSpec, outcome: Outcome) -> dict[str, Any]:
    """What goes to the flow service: the filled fields the initiator may fill (the service
    computes the computed ones and checks every rule again)."""
    return {f.name: outcome.values.get(f.name) for f in spec.fields
            if f.editable and outcome.values.get(f.name) not in (None, [])}


def with_problems(outcome: Outcome, problems: list[Problem], lang: str, read: list[FieldError] = ()) -> Outcome:
    """`outcome` showing the flow service's problems (by path, in `lang`); a value the page could
    not read keeps its own message."""
    unread = {e.path for e in read}
    outcome.errors = list(read) + [e for e in field_errors(problems, lang) if e.path not in unread]
    return outcome


def check_step(spec: FormSpec, current: Mapping[str, Any], sub: Submitted | None, step: Mapping[str, Any],
               lang: str, deciding: bool) -> Outcome:
    """The form at a step: the instance's values with the person's edits over them, every rule of
    the editable fields, and — when the step is being approved or completed — the node's `required`."""
    edits: dict[str, Any] = {}
    problems: list[FieldError] = []
    if sub is not None:
        edits, problems = parse(spec, sub, lang, tz=zone_name())
    outcome = read_first(validate(spec, {**current, **edits}, lang), problems)
    outcome.unread = problems
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
