"""The compiled field rules of one entity, applied to one record: conversion and defaults here;
required and required-when, lengths, patterns, ranges, checks, validations and computed fields
are the one set of field rules of dsl/field_rules.py, which the forms and the flows run too.

Problems are collected, never raised one at a time: a person fixing a row sees all of it.
"""
from __future__ import annotations

from typing import Any, Mapping

from dsl.diagnostics import did_you_mean
from dsl.expr.runtime import EvaluationError, has_own_words
from dsl.field_rules import FieldRules, Problem, Verdict
from runtime.records.values import BadValue, converter, loader

__all__ = ["EntityRules", "Problem"]


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
        self.computed = [self.fields[n] for n in entity.compute_order]
        self.refs = {f.name: f.ref for f in self.stored if f.type_name == "ref" and f.ref not in ("org_unit", "user")}
        self.unique = [f.name for f in self.stored if f.unique]
        self.field_rules = FieldRules(self.stored, entity.validations)
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
                problems.append(Problem.of_error((name,), exc))
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
                problems.append(Problem.of_error((name,), exc))
        return out

    def _not_settable(self, name: str, problems: list[Problem]) -> None:
        if name in self.fields:
            problems.append(Problem.of((name,), "read_only"))
        else:
            problems.append(unknown_field(name, self.fields))

    def complete(self, values: dict[str, Any]) -> dict[str, Any]:
        """A new record's full set of stored values: given, else the default, else null."""
        return {f.name: values[f.name] if f.name in values else self.defaults.get(f.name) for f in self.stored}

    def compute(self, values: dict[str, Any], ctx: Any, problems: list[Problem], new: bool = False,
                only: Any = None) -> None:
        """Computed fields in dependency order. For a new record (`new`), a field that reads only
        collections (all still empty) and not the clock has one value for every record: it is
        evaluated once and reused. `only`: just these fields (a backtest's, with what they read);
        the others keep their values."""
        if only is not None:
            for f in self.computed:
                if f.name in only:
                    values[f.name] = self._evaluate(f, ctx, problems)
            return
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
            if has_own_words(exc):             # a function's own words (fx.missing_rate: currency, date)
                problems.append(Problem.of_error((f.name,), exc))
            else:                               # as dsl/field_rules.compute_one says it
                problems.append(Problem.of((f.name,), "evaluation", rule=f.compute.text))
            return None

    def check(self, values: Mapping[str, Any], ctx: Any, problems: list[Problem], skip: set[str] = frozenset()) -> None:
        """The field rules on converted values (fields in `skip` already have a problem)."""
        self.field_rules.check(values, ctx, Verdict(problems), skip=skip)


def unknown_field(name: str, known: Any) -> Problem:
    """`name` is no field of these (with a did-you-mean hint when one is close)."""
    hint = did_you_mean(name, known) or ""
    return Problem.of((name,), "unknown_field", name=name, hint=f" ({hint})" if hint else "")
