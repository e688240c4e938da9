"""Every door's flow form, checked in one place before anything is stored: a start's form and an
action's fields, against the flow's Form and the step's field permissions.

* value conversion (money `8亿`, percents, dates, enums …) per field, tables shaped as lists of
  rows, unknown keys refused, user fields naming people that exist;
* who may fill what: at the start, every field but the computed ones (the fields a later step
  owns — its `editable` list — may get a first value, but are not required of the initiator);
  at a step, its `editable` fields, and its `required` ones when it is approved or completed;
* then the one set of field rules (dsl/field_rules.py): required, required_when, ranges,
  patterns, enums, checks, computed fields, validations.

Every problem carries its path (`("sub_limits", 0, "amount")`), a code and its words in both
languages; all of them are raised together as one `InvalidForm` (422), so the API, the CLI and
the pages show the same list. A flow without a Form takes its form as given (a mapping).
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Mapping

from dsl.diagnostics import did_you_mean
from dsl.field_rules import Problem, first_per_field
from dsl.values import BadValue, read_value
from forms.rules import rules_of
from forms.spec import FieldSpec, FormSpec
from runtime.flows.store import FlowError


class InvalidForm(FlowError):
    """The form (or a step's fields) breaks its rules; `problems` say where and what. Nothing is stored."""

    def __init__(self, problems: list[Problem]):
        super().__init__("invalid_form", "the form has problems: " + "; ".join(
            (".".join(map(str, p.path)) + ": " if p.path else "") + p.message for p in problems[:5]), 422)
        self.params = {"count": len(problems)}
        self.problems = list(problems)


# -- the forms of one deployment, worked out once ----------------------------------------------
# A deployment's bundle never changes (dsl/bundle.py), so its Form's spec, and the spec narrowed
# to a flow's start or a step with that narrowing's compiled rules, are made once per process and
# kept here. Keys are identities; each entry holds its key objects, so an id cannot be reused
# while its entry lives. Bounded: cleared when full (a long-lived server meets few bundles).
_MEMO: dict[tuple, tuple[tuple, Any]] = {}
_MEMO_SIZE = 4096


def _memo(tag: str, objs: tuple, make: Callable[[], Any]) -> Any:
    key = (tag, *map(id, objs))
    hit = _MEMO.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], objs)):
        return hit[1]
    if len(_MEMO) >= _MEMO_SIZE:
        _MEMO.clear()
    value = make()
    _MEMO[key] = (objs, value)
    return value


# -- who may fill what -------------------------------------------------------------------------
def later_fields(flow: Any) -> set[str]:
    """Fields some step of `flow` fills (its `editable` list)."""
    out: set[str] = set()
    for node in flow.nodes:
        access = getattr(node, "fields", None)
        if access is not None:
            out.update(access.editable)
    return out


def narrowed(spec: FormSpec, editable: Iterable[str] | None, hidden: Iterable[str] = ()) -> FormSpec:
    """`spec` with only `editable` fields open (None: all that were), `hidden` ones left out of the layout."""
    keep_open = None if editable is None else set(editable)
    gone = set(hidden)
    fields = tuple(f if keep_open is None or f.name in keep_open or f.computed or f.readonly
                   else dataclasses.replace(f, readonly=True) for f in spec.fields)
    fields = tuple(dataclasses.replace(f, readonly=True) if f.name in gone else f for f in fields)
    gone |= {f.name for f in fields if f.is_table and not f.editable}    # read-only tables: shown apart
    sections = tuple(dataclasses.replace(s, fields=tuple(n for n in s.fields if n not in gone)) for s in spec.sections)
    sections = tuple(s for s in sections if s.fields)
    kept = {s.id for s in sections}
    tabs = tuple(dataclasses.replace(t, sections=tuple(x for x in t.sections if x in kept)) for t in spec.tabs)
    tabs = tuple(t for t in tabs if t.sections)
    return dataclasses.replace(spec, fields=fields, sections=sections, tabs=tabs if len(tabs) > 1 else ())


def start_spec(spec: FormSpec, flow: Any) -> FormSpec:
    """The form as the initiator fills it: every field but those a later step owns."""
    later = later_fields(flow)
    return narrowed(spec, [f.name for f in spec.fields if f.name not in later], later)


def step_spec(spec: FormSpec, access: Any) -> FormSpec:
    """The form at a step with field access `access` (the node's `fields`, or a mapping of it)."""
    if access is None:
        return narrowed(spec, [])
    get = access.get if isinstance(access, Mapping) else lambda k: getattr(access, k)
    return narrowed(spec, get("editable"), get("hidden"))


def form_spec(bundle: Any, flow: Any) -> FormSpec | None:
    """The spec of `flow`'s Form in `bundle` (None: the flow has none), made once per bundle."""
    doc = bundle.get("Form", flow.form) if flow.form else None
    if doc is None:
        return None
    return _memo("form", (doc,), lambda: FormSpec.of_form(doc))


def _start_parts(spec: FormSpec, flow: Any) -> tuple[FormSpec, set[str], Any, set[str]]:
    """The start's narrowed form, the initiator's fields, the rules they are checked by (a later
    step's validations are its own) and the fields hidden from the initiator."""
    narrow = start_spec(spec, flow)
    mine = {f.name for f in narrow.fields if f.editable}
    narrow = dataclasses.replace(narrow, validations=tuple(
        v for v in narrow.validations if not v.fields or set(v.fields) & mine))
    return narrow, mine, rules_of(narrow), {f.name for f in narrow.fields if not f.editable and not f.computed}


def _step_parts(spec: FormSpec, node: Any) -> tuple[FormSpec, set[str], Any]:
    """A step's narrowed form, its editable fields and the rules its edits are checked by."""
    access = getattr(node, "fields", None)
    narrow = step_spec(spec, access)
    editable = set(access.editable) if access is not None else set()
    step_rules = dataclasses.replace(narrow, validations=tuple(
        v for v in narrow.validations if not v.fields or set(v.fields) & editable))
    return narrow, editable, rules_of(step_rules)


# -- values ---------------------------------------------------------------------------------------
def _read(f: Any, raw: Any, path: tuple, problems: list[Problem]) -> Any:
    """One value as the field holds it, by the one value model (dsl/values: `8亿`, `70%`, enum
    labels …); a problem (and None) when it cannot be read."""
    try:
        return read_value(f, raw, source="json")
    except BadValue as exc:
        problems.append(Problem.of_error(path, exc))
    return None


def _fields(fields: Iterable[FieldSpec], raw: Mapping[str, Any], prefix: tuple, open_: Callable[[FieldSpec], bool],
            problems: list[Problem], users: list[tuple[tuple, str]]) -> dict[str, Any]:
    by_name = {f.name: f for f in fields}
    out: dict[str, Any] = {}
    for name, value in raw.items():
        path = prefix + (name,)
        f = by_name.get(name) if isinstance(name, str) else None
        if f is None:
            problems.append(_unknown(str(name), by_name, path))
            continue
        if f.computed:
            problems.append(Problem.of(path, "read_only"))
            continue
        if not open_(f):
            problems.append(Problem.of(path, "not_editable"))
            continue
        if f.is_table:
            out[name] = _rows(f, value, path, problems, users)
            continue
        v = _read(f.field, value, path, problems)
        if v is not None and f.type == "ref" and f.field.ref == "user":
            users.append((path, str(v)))
        out[name] = v
    return out


def _rows(table: FieldSpec, value: Any, path: tuple, problems: list[Problem],
          users: list[tuple[tuple, str]]) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        problems.append(Problem.of(path, "table"))
        return []
    rows = []
    for i, row in enumerate(value):
        if not isinstance(row, Mapping):
            problems.append(Problem.of(path + (i,), "row"))
            continue
        got = _fields(table.columns, row, path + (i,), lambda c: c.editable, problems, users)
        rows.append({c.name: got.get(c.name, c.field.default if c.field.default is not None else None)
                     for c in table.columns if c.editable})
    return rows


def _unknown(name: str, known: Iterable[str], path: tuple) -> Problem:
    hint = did_you_mean(name, list(known)) or ""
    return Problem.of(path, "unknown_field", name=name, hint=f" ({hint})" if hint else "")


def _check_users(users: list[tuple[tuple, str]], known: Callable[[list[str]], set[str]],
                 problems: list[Problem]) -> None:
    if not users:
        return
    found = known(sorted({u for _, u in users}))
    problems.extend(Problem.of(path, "unknown_user", value=u) for path, u in users if u not in found)


def _filled(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and v != []}


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise InvalidForm(first_per_field(problems))


# -- the two doors' checks -----------------------------------------------------------------------
def check_start(spec: FormSpec, flow: Any, form: Mapping[str, Any], known_users: Callable[[list[str]], set[str]],
                context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The initiator's form, read and checked: the typed values to store (computed ones included,
    hidden ones cleared, empty ones left out). Raises InvalidForm with every problem."""
    narrow, mine, rules, hidden = _memo("start", (spec, flow), lambda: _start_parts(spec, flow))
    problems: list[Problem] = []
    users: list[tuple[tuple, str]] = []
    # a field a later step owns may be given a first value (an alert's assessment), read like any
    # other; its rules are that step's to enforce
    given = _fields(spec.fields, form, (), lambda f: f.editable, problems, users)
    _check_users(users, known_users, problems)
    values = _defaults(narrow, given)
    bad = {p.path[0] for p in problems if p.path}
    verdict = rules.run(values, context, compute=True, skip=bad, hidden_names=hidden)
    problems += [p for p in verdict.problems if not (p.path and p.path[0] in bad)]
    _raise(problems)
    return _filled({f.name: values.get(f.name) for f in narrow.fields
                    if f.editable or f.computed or f.name in given})


def check_resubmit(spec: FormSpec, flow: Any, current: Mapping[str, Any], form: Mapping[str, Any],
                   known_users: Callable[[list[str]], set[str]],
                   context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An application returned to the initiator, edited: the fields given (`form`; a field left
    out keeps its value) over the instance's values, checked exactly as a start is — the
    initiator's fields, every rule, computed fields computed again. The typed values of the
    initiator's fields to store (an emptied field as None, so the edit clears it); the fields
    later steps own are theirs and left as they are. Raises InvalidForm with every problem."""
    narrow, mine, rules, hidden = _memo("start", (spec, flow), lambda: _start_parts(spec, flow))
    problems: list[Problem] = []
    users: list[tuple[tuple, str]] = []
    given = _fields(narrow.fields, form, (), lambda f: f.editable, problems, users)
    _check_users(users, known_users, problems)
    values = {f.name: ([] if f.is_table else None) for f in spec.fields}
    values.update(current)
    values.update(given)
    bad = {p.path[0] for p in problems if p.path}
    verdict = rules.run(values, context, compute=True, skip=bad, hidden_names=hidden)
    problems += [p for p in verdict.problems if not (p.path and p.path[0] in bad)]
    _raise(problems)
    computed = {f.name for f in narrow.fields if f.computed}
    return {name: values.get(name) for name in sorted(mine | computed)}


def read_draft(spec: FormSpec, form: Mapping[str, Any]) -> dict[str, Any]:
    """A draft (a form still being filled in, for the route preview) read by the same value model
    as a start — `8亿` is 800000000 — leaving out what cannot be read yet or is not the Form's: a
    preview shows routes, the start is where problems are refused."""
    problems: list[Problem] = []
    given = _fields(spec.fields, form, (), lambda f: True, problems, [])
    bad = {p.path[0] for p in problems if p.path}
    return {k: v for k, v in given.items() if k not in bad and v is not None}


def _defaults(spec: FormSpec, given: Mapping[str, Any]) -> dict[str, Any]:
    """A new form's values: given, else the field's default, else empty."""
    out: dict[str, Any] = {}
    for f in spec.fields:
        if f.name in given:
            out[f.name] = given[f.name]
        elif f.editable and f.field.default is not None and not f.is_table:
            out[f.name] = f.field.default
        else:
            out[f.name] = [] if f.is_table else None
    return out


def check_step(spec: FormSpec, node: Any, current: Mapping[str, Any], fields: Mapping[str, Any] | None,
               deciding: bool, known_users: Callable[[list[str]], set[str]],
               context: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """An action's `fields` at step `node`, read and checked against the step's permissions and
    the form's rules over the instance's values with the edits over them; `deciding` (approve,
    complete) adds the step's `required` fields. The typed edits, or None when none were given."""
    access = getattr(node, "fields", None)
    if not fields and not (deciding and access is not None and access.required):
        return None                     # nothing given, nothing required: nothing to check
    narrow, editable, rules = _memo("step", (spec, node), lambda: _step_parts(spec, node))
    problems: list[Problem] = []
    users: list[tuple[tuple, str]] = []
    edits = _fields(narrow.fields, fields or {}, (), lambda f: f.name in editable, problems, users)
    _check_users(users, known_users, problems)
    values = {f.name: ([] if f.is_table else None) for f in spec.fields}
    values.update(current)
    values.update(edits)
    bad = {p.path[0] for p in problems if p.path}
    verdict = rules.run(values, context, compute=False, skip=bad)
    problems += [p for p in verdict.problems if not (p.path and p.path[0] in bad)]
    if deciding and access is not None:
        flagged = {p.path for p in problems}
        for name in access.required:
            v = values.get(name)
            if (v is None or v == [] or (isinstance(v, str) and not v.strip())) and (name,) not in flagged \
                    and name not in verdict.hidden:
                problems.append(Problem.of((name,), "required"))
    _raise(problems)
    return edits if fields else None
