"""The compiled field rules of one entity, applied to one record: conversion, defaults,
required and required-when, lengths, patterns, ranges, checks, validations, computed fields.

Problems are collected, never raised one at a time: a person fixing a row sees all of it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from dsl.diagnostics import did_you_mean
from dsl.expr import EvaluationError
from dsl.patterns import compile_pattern
from runtime.records.values import BadValue, converter, loader


@dataclass(frozen=True)
class Problem:
    path: tuple                      # ("field",) or () for the whole record; bulk adds the row
    message: str
    code: str = "invalid"

    def to_dict(self) -> dict:
        return {"loc": list(self.path), "msg": self.message, "type": self.code}


def _label(label: Any) -> str:
    return label.text("en") if label else ""


def _expr_error(exc: EvaluationError) -> str:
    return str(exc).splitlines()[0]


class EntityRules:
    """Everything needed to check records of one entity, prepared once: per field a converter
    (with its null check) and a small rule closure, so a record is checked without looking at
    field types again."""

    def __init__(self, entity: Any):
        self.entity = entity
        self.fields = {f.name: f for f in entity.fields}
        self.stored = [f for f in entity.fields if not f.computed]
        self.converters = {f.name: converter(f) for f in self.stored}
        self._loaders = {f.name: loader(f) for f in self.stored}
        self.defaults = {f.name: f.default for f in self.stored if f.default is not None}
        self._blank = {f.name: self.defaults.get(f.name) for f in self.stored}
        self.patterns = {f.name: compile_pattern(f.pattern) for f in self.stored if f.pattern}
        self.computed = [self.fields[n] for n in entity.compute_order]
        self.refs = {f.name: f.ref for f in self.stored if f.type_name == "ref" and f.ref not in ("org_unit", "user")}
        self.unique = [f.name for f in self.stored if f.unique]
        self._simple = [f for f in self.stored
                        if f.required or f.required_when is not None or f.min is not None or f.max is not None
                        or f.min_length is not None or f.max_length is not None or f.name in self.patterns]
        self._field_rules = [(f.name, _null_rule(f), _value_rule(f, self.patterns.get(f.name)))
                             for f in self._simple]
        self._checks = [f for f in self.stored if f.check is not None]
        self._check_rules = [(f.name, f.check.evaluate, _label(f.check_message) or f"fails `{f.check.text}`")
                             for f in self._checks]
        self._validation_rules = [(v.rule.evaluate, v.rule.text, (v.fields[0],) if v.fields else (),
                                   _label(v.message) or f"breaks the rule `{v.rule.text}`")
                                  for v in entity.validations]
        collections = {c.name for c in entity.collections}
        self._constant_when_new = {f.name for f in self.computed
                                   if f.compute.names <= collections and not f.compute.uses_now}
        self._new_values: dict[str, Any] = {}
        self._new_ready: dict[str, Any] | None = None

    def convert(self, raw: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any]:
        """Typed values of the given fields; unknown and computed names are problems."""
        out: dict[str, Any] = {}
        loaders = self._loaders
        for name, value in raw.items():
            load = loaders.get(name)
            if load is None:
                self._not_settable(name, problems)
                continue
            try:
                out[name] = load(value)
            except BadValue as exc:
                problems.append(Problem((name,), str(exc), "type"))
        return out

    def convert_new(self, raw: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any]:
        """`complete(convert(raw))` in one pass: a new record's stored values, given (converted),
        else the default, else null; a value that cannot be converted is a problem and leaves
        the default."""
        out = self._blank.copy()
        loaders = self._loaders
        for name, value in raw.items():
            load = loaders.get(name)
            if load is None:
                self._not_settable(name, problems)
                continue
            try:
                out[name] = load(value)
            except BadValue as exc:
                problems.append(Problem((name,), str(exc), "type"))
        return out

    def _not_settable(self, name: str, problems: list[Problem]) -> None:
        if name in self.fields:
            problems.append(Problem((name,), f"`{name}` is computed; it cannot be set", "read_only"))
        else:
            hint = did_you_mean(name, self.fields)
            problems.append(Problem((name,), f"{self.entity.name} has no field `{name}`"
                                    + (f" ({hint})" if hint else ""), "unknown_field"))

    def complete(self, values: dict[str, Any]) -> dict[str, Any]:
        """A new record's full set of stored values: given, else the default, else null."""
        return {f.name: values[f.name] if f.name in values else self.defaults.get(f.name) for f in self.stored}

    def compute(self, values: dict[str, Any], ctx: Any, problems: list[Problem], new: bool = False) -> None:
        """Computed fields in dependency order. For a new record (`new`), a field that reads only
        collections (all still empty) and not the clock has one value for every record: it is
        evaluated once and reused."""
        if new and self._new_ready is not None:
            values.update(self._new_ready)
            return
        for f in self.computed:
            if new and f.name in self._constant_when_new:
                if f.name not in self._new_values:
                    before = len(problems)
                    value = self._evaluate(f, ctx, problems)
                    if len(problems) > before:          # an error is reported for every record
                        values[f.name] = value
                        continue
                    self._new_values[f.name] = value
                values[f.name] = self._new_values[f.name]
                continue
            values[f.name] = self._evaluate(f, ctx, problems)
        if new and len(self._new_values) == len(self.computed):      # every one is constant, and known
            self._new_ready = {f.name: self._new_values[f.name] for f in self.computed}

    def _evaluate(self, f: Any, ctx: Any, problems: list[Problem]) -> Any:
        try:
            return f.compute(ctx)
        except EvaluationError as exc:
            problems.append(Problem((f.name,), f"cannot be computed: {_expr_error(exc)}", "compute"))
            return None

    def check(self, values: Mapping[str, Any], ctx: Any, problems: list[Problem], skip: set[str] = frozenset()) -> None:
        """Rules on converted values (fields in `skip` already have a problem)."""
        get = values.get
        for name, on_null, on_value in self._field_rules:
            if skip and name in skip:
                continue
            v = get(name)
            if v is None:
                if on_null is not None:
                    on_null(ctx, problems)
            elif on_value is not None:
                on_value(v, problems)
        for name, check, message in self._check_rules:
            if (skip and name in skip) or get(name) is None:
                continue
            try:
                verdict = check(ctx)
            except EvaluationError as exc:
                problems.append(Problem((name,), f"the check cannot be evaluated: {_expr_error(exc)}", "check"))
                continue
            if verdict is False:
                problems.append(Problem((name,), message, "check"))
        for rule, text, path, message in self._validation_rules:
            try:
                verdict = rule(ctx)
            except EvaluationError as exc:
                verdict, msg = False, f"the rule `{text}` cannot be evaluated: {_expr_error(exc)}"
            else:
                msg = message
            if verdict is False:
                problems.append(Problem(path, msg, "validation"))


def _null_rule(f: Any) -> Callable[[Any, list[Problem]], None] | None:
    """What a null value of field `f` breaks: `required`, or `required_when` (tested on the record)."""
    name = f.name
    if f.required:
        required = Problem((name,), f"{_label(f.label) or name} is required", "required")

        def is_required(ctx: Any, problems: list[Problem]) -> None:
            problems.append(required)
        return is_required
    when = f.required_when
    if when is None:
        return None
    test = when.evaluate
    required_when = Problem((name,), f"{_label(f.label) or name} is required when `{when.text}`", "required")

    def is_required_when(ctx: Any, problems: list[Problem]) -> None:
        try:
            hit = test(ctx) is True
        except EvaluationError as exc:
            problems.append(Problem((name,), f"the condition cannot be evaluated: {_expr_error(exc)}", "check"))
            return
        if hit:
            problems.append(required_when)
    return is_required_when


def _value_rule(f: Any, pattern: Any | None) -> Callable[[Any, list[Problem]], None] | None:
    """Lengths and pattern (of text), then the range, of a non-null value of field `f`."""
    name, lo_len, hi_len, lo, hi = f.name, f.min_length, f.max_length, f.min, f.max
    search = pattern.search if pattern is not None else None
    has_text = lo_len is not None or hi_len is not None or search is not None
    has_range = lo is not None or hi is not None
    if not has_text and not has_range:
        return None

    def rule(v: Any, problems: list[Problem]) -> None:
        if has_text and isinstance(v, str):
            if lo_len is not None and len(v) < lo_len:
                problems.append(Problem((name,), f"must be at least {lo_len} characters", "length"))
            if hi_len is not None and len(v) > hi_len:
                problems.append(Problem((name,), f"must be at most {hi_len} characters", "length"))
            if search is not None and not search(v):
                problems.append(Problem((name,), f"`{v}` does not match the pattern {f.pattern}", "pattern"))
        if has_range:
            try:
                if lo is not None and v < lo:
                    problems.append(Problem((name,), f"must be at least {lo}", "range"))
                if hi is not None and v > hi:
                    problems.append(Problem((name,), f"must be at most {hi}", "range"))
            except TypeError:
                problems.append(Problem((name,), f"cannot compare {v!r} with its limits", "range"))
    return rule
