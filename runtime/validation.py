"""The compiled field rules of one entity, applied to one record: conversion, defaults,
required and required-when, lengths, patterns, ranges, checks, validations, computed fields.

Problems are collected, never raised one at a time: a person fixing a row sees all of it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from dsl.diagnostics import did_you_mean
from dsl.expr import EvaluationError

from .values import BadValue, converter, is_empty


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
    """Everything needed to check records of one entity, prepared once."""

    def __init__(self, entity: Any):
        self.entity = entity
        self.fields = {f.name: f for f in entity.fields}
        self.stored = [f for f in entity.fields if not f.computed]
        self.converters = {f.name: converter(f) for f in self.stored}
        self.defaults = {f.name: f.default for f in self.stored if f.default is not None}
        self.patterns = {f.name: re.compile(f.pattern) for f in self.stored if f.pattern}
        self.computed = [self.fields[n] for n in entity.compute_order]
        self.refs = {f.name: f.ref for f in self.stored if f.type_name == "ref" and f.ref not in ("org_unit", "user")}
        self.unique = [f.name for f in self.stored if f.unique]
        self._simple = [f for f in self.stored
                        if f.required or f.required_when is not None or f.min is not None or f.max is not None
                        or f.min_length is not None or f.max_length is not None or f.name in self.patterns]
        self._checks = [f for f in self.stored if f.check is not None]
        collections = {c.name for c in entity.collections}
        self._constant_when_new = {f.name for f in self.computed
                                   if f.compute.names <= collections and not f.compute.uses_now}
        self._new_values: dict[str, Any] = {}

    def convert(self, raw: Mapping[str, Any], problems: list[Problem]) -> dict[str, Any]:
        """Typed values of the given fields; unknown and computed names are problems."""
        out: dict[str, Any] = {}
        for name, value in raw.items():
            conv = self.converters.get(name)
            if conv is None:
                if name in self.fields:
                    problems.append(Problem((name,), f"`{name}` is computed; it cannot be set", "read_only"))
                else:
                    hint = did_you_mean(name, self.fields)
                    problems.append(Problem((name,), f"{self.entity.name} has no field `{name}`"
                                            + (f" ({hint})" if hint else ""), "unknown_field"))
                continue
            if is_empty(value):
                out[name] = None
                continue
            try:
                out[name] = conv(value)
            except BadValue as exc:
                problems.append(Problem((name,), str(exc), "type"))
        return out

    def complete(self, values: dict[str, Any]) -> dict[str, Any]:
        """A new record's full set of stored values: given, else the default, else null."""
        return {f.name: values[f.name] if f.name in values else self.defaults.get(f.name) for f in self.stored}

    def compute(self, values: dict[str, Any], ctx: Any, problems: list[Problem], new: bool = False) -> None:
        """Computed fields in dependency order. For a new record (`new`), a field that reads only
        collections (all still empty) and not the clock has one value for every record: it is
        evaluated once and reused."""
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

    def _evaluate(self, f: Any, ctx: Any, problems: list[Problem]) -> Any:
        try:
            return f.compute(ctx)
        except EvaluationError as exc:
            problems.append(Problem((f.name,), f"cannot be computed: {_expr_error(exc)}", "compute"))
            return None

    def check(self, values: Mapping[str, Any], ctx: Any, problems: list[Problem], skip: set[str] = frozenset()) -> None:
        """Rules on converted values (fields in `skip` already have a problem)."""
        for f in self._simple:
            if f.name in skip:
                continue
            v = values.get(f.name)
            if v is None:
                if f.required:
                    problems.append(Problem((f.name,), f"{_label(f.label) or f.name} is required", "required"))
                elif f.required_when is not None and self._test(f.required_when, ctx, f.name, problems):
                    problems.append(Problem((f.name,), f"{_label(f.label) or f.name} is required when "
                                            f"`{f.required_when.text}`", "required"))
                continue
            self._check_value(f, v, problems)
        for f in self._checks:
            if f.name in skip or values.get(f.name) is None:
                continue
            try:
                verdict = f.check(ctx)
            except EvaluationError as exc:
                problems.append(Problem((f.name,), f"the check cannot be evaluated: {_expr_error(exc)}", "check"))
                continue
            if verdict is False:
                problems.append(Problem((f.name,), _label(f.check_message) or f"fails `{f.check.text}`", "check"))
        for v in self.entity.validations:
            try:
                verdict = v.rule(ctx)
            except EvaluationError as exc:
                verdict, msg = False, f"the rule `{v.rule.text}` cannot be evaluated: {_expr_error(exc)}"
            else:
                msg = _label(v.message) or f"breaks the rule `{v.rule.text}`"
            if verdict is False:
                problems.append(Problem((v.fields[0],) if v.fields else (), msg, "validation"))

    def _test(self, expr: Any, ctx: Any, name: str, problems: list[Problem]) -> bool:
        try:
            return expr.test(ctx)
        except EvaluationError as exc:
            problems.append(Problem((name,), f"the condition cannot be evaluated: {_expr_error(exc)}", "check"))
            return False

    def _check_value(self, f: Any, v: Any, problems: list[Problem]) -> None:
        if isinstance(v, str):
            if f.min_length is not None and len(v) < f.min_length:
                problems.append(Problem((f.name,), f"must be at least {f.min_length} characters", "length"))
            if f.max_length is not None and len(v) > f.max_length:
                problems.append(Problem((f.name,), f"must be at most {f.max_length} characters", "length"))
            pattern = self.patterns.get(f.name)
            if pattern is not None and not pattern.search(v):
                problems.append(Problem((f.name,), f"`{v}` does not match the pattern {f.pattern}", "pattern"))
        try:
            if f.min is not None and v < f.min:
                problems.append(Problem((f.name,), f"must be at least {f.min}", "range"))
            if f.max is not None and v > f.max:
                problems.append(Problem((f.name,), f"must be at most {f.max}", "range"))
        except TypeError:
            problems.append(Problem((f.name,), f"cannot compare {v!r} with its limits", "range"))
