"""Server-side rules on typed values: show/hide, clearing hidden values, required and
required-when, lengths, patterns, ranges, checks, computed fields, cross-field validations.

The rules themselves are dsl/field_rules.py — the one set the records service and the flow
service run too — compiled once per form spec; this module adds what a page needs around them:
sections hidden by their own condition, and the problems as `FieldError`s in the person's
language, one per field. The browser runs the same compiled expressions (`client.py`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Iterable, Mapping

from dsl.expr import EvaluationError
from dsl.field_rules import FieldRules, Problem, first_per_field

from .i18n import lang_of
from .spec import FormSpec
from .values import FieldError


@dataclass
class Outcome:
    values: dict[str, Any]
    errors: list[FieldError] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)       # keys of hidden fields ("amount", "rows.0.guarantor")
    required: set[str] = field(default_factory=set)     # keys of fields required right now
    hidden_sections: set[str] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)   # the same, language-free (path, code, words)
    unread: list[FieldError] = field(default_factory=list)   # values the page could not read (forms.values)

    @property
    def ok(self) -> bool:
        return not self.errors

    def by_key(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for e in self.errors:
            out.setdefault(e.key, e.message)
        return out


def field_errors(problems: Iterable[Problem], lang: str) -> list[FieldError]:
    """Problems in `lang`, one per field, as the renderer shows them."""
    return [FieldError(p.path, p.text(lang), p.code) for p in first_per_field(problems)]


@lru_cache(maxsize=512)
def _compiled(spec: FormSpec) -> FieldRules:
    return FieldRules(spec.fields, spec.validations, spec.compute_order)


def rules_of(spec: FormSpec) -> FieldRules:
    """The compiled rules of `spec` (once per spec)."""
    try:
        return _compiled(spec)
    except TypeError:                       # a spec holding something unhashable: compile it now
        return FieldRules(spec.fields, spec.validations, spec.compute_order)


def hidden_sections(spec: FormSpec, ctx: Mapping[str, Any]) -> set[str]:
    out = set()
    for s in spec.sections:
        if s.visible_when is None:
            continue
        try:
            shown = s.visible_when(ctx) is True
        except EvaluationError:
            shown = False
        if not shown:
            out.add(s.id)
    return out


def check(spec: FormSpec, values: Mapping[str, Any], *, now: datetime | None = None,
          context: Mapping[str, Any] | None = None, compute: bool | None = None,
          skip: Iterable[str] = ()) -> Outcome:
    """Every rule of `spec` over typed `values`, problems language-free (`Outcome.problems`);
    the fields named in `skip` (values that could not be read) are not checked, nor the
    validations reading them."""
    now = now or datetime.now(timezone.utc)
    base = {**(context or {}), "$now": now}
    rules = rules_of(spec)
    out_values = {k: ([dict(r) for r in v] if isinstance(v, list) and v and isinstance(v[0], dict) else v)
                  for k, v in values.items()}
    for f in spec.fields:
        out_values.setdefault(f.name, [] if f.is_table else None)
    do_compute = spec.kind == "form" if compute is None else compute
    ctx: dict[str, Any] = {**base, **out_values}
    sections = hidden_sections(spec, ctx)
    in_hidden = {n for s in spec.sections if s.id in sections for n in s.fields}
    verdict = rules.run(out_values, base, compute=do_compute, hidden_names=in_hidden, skip=skip)
    return Outcome(out_values, [], verdict.hidden, verdict.required, sections, verdict.problems)


def validate(spec: FormSpec, values: Mapping[str, Any], lang: str = "zh", *, now: datetime | None = None,
             context: Mapping[str, Any] | None = None, compute: bool | None = None,
             unread: Iterable[FieldError] = ()) -> Outcome:
    """Check typed `values` against every rule of `spec`. `context` adds names the expressions
    may read beyond the form's own fields (a stored record's computed values, `$graph` …).
    Computed fields are evaluated for a Form (entities compute on save: `compute=False`).

    `unread`: the problems `values.parse` met. Each keeps its own words ("“abc”不是数字", not
    "此项必填" for the empty value it left), first; a field that could not be read is not
    checked further, and a hidden one's value is dropped, so its problem goes too. The browser
    (static/forms.js) says the same."""
    unread = list(unread)
    skip = {str(e.path[0]) for e in unread if len(e.path) == 1}
    outcome = check(spec, values, now=now, context=context, compute=compute, skip=skip)
    rule_errors = field_errors(outcome.problems, lang_of(lang))
    if unread:
        read = [e for e in unread if e.key not in outcome.hidden]
        paths = {e.path for e in read}
        rule_errors = read + [e for e in rule_errors if e.path not in paths]
        outcome.unread = unread
    outcome.errors = rule_errors
    return outcome
