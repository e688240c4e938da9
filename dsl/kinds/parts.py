"""Schema pieces and build helpers shared by the kinds beyond Entity: ids, durations,
field lists, reading a spec safely, checking names against a set with a did-you-mean."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from dsl.diagnostics import did_you_mean
from dsl.expr.types import ListType, RecordType, Type, list_of, record
from dsl.kinds.common import DURATION, EXPRESSION, NAME, NAME_PATTERN
from dsl.link import BUILTIN_RECORDS, LinkContext
from dsl.loader import Document, Path
from dsl.source import Span

ID = {**NAME, "description": "An id, unique within its list (ASCII snake_case)."}
NAME_LIST = {"type": "array", "items": NAME, "uniqueItems": True}

ASSIGNEES = {**EXPRESSION, "description":
             "Who: an expression giving one user or a list of users, e.g. \"role('credit_officer', "
             "subject.lead_branch)\", \"initiator.supervisor\", \"form.reviewer\"."}

CONDITION = {**EXPRESSION, "description": "A condition (true/false). A condition that is null does not hold."}

# `Business days` skip weekends and the bank's holiday calendar; other units are calendar time.
SLA = {**DURATION, "description": "A duration: 30m, 4h, 2d, 1w, 3 months, or business days: `2 business days`, `3 工作日`."}

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(.+?)\s*$")
_UNITS = {"m": "minutes", "min": "minutes", "minute": "minutes", "minutes": "minutes", "h": "hours",
          "hour": "hours", "hours": "hours", "小时": "hours", "d": "days", "day": "days", "days": "days",
          "天": "days", "w": "weeks", "week": "weeks", "weeks": "weeks", "month": "months",
          "months": "months", "business day": "business_days", "business days": "business_days",
          "工作日": "business_days"}


@dataclass(frozen=True, slots=True)
class Duration:
    """A duration as written: an amount and a unit (minutes, hours, days, weeks, months,
    business_days). The engine turns business days into time with the bank's calendar."""

    amount: float
    unit: str
    text: str
    span: Span

    @property
    def business(self) -> bool:
        return self.unit == "business_days"


def duration_at(doc: Document, path: Path) -> Duration | None:
    """The duration written at path (the schema has checked its form), or None if absent."""
    text = get(doc.data, path)
    if not isinstance(text, str):
        return None
    m = _DURATION_RE.match(text)
    unit = _UNITS.get(m.group(2)) if m else None
    if m is None or unit is None:  # the schema pattern reports it
        return None
    amount = float(m.group(1))
    return Duration(int(amount) if amount.is_integer() else amount, unit, text.strip(), doc.span(path))


def get(data: Any, path: Path) -> Any:
    for p in path:
        try:
            data = data[p]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def spec_of(doc: Document) -> dict:
    spec = doc.data.get("spec") if isinstance(doc.data, dict) else None
    return spec if isinstance(spec, dict) else {}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def check_name_in(ctx: LinkContext, doc: Document, path: Path, name: Any, known: Iterable[str], code: str,
                  what: str) -> bool:
    """Report `name` at path with `code` when it is not one of `known` (with a did-you-mean)."""
    known = list(known)
    if not isinstance(name, str) or name in known:
        return isinstance(name, str)
    hint = did_you_mean(name, known) or (f"use one of: {', '.join(sorted(known)[:10])}" if known else None)
    ctx.diags.add(code, f"unknown {what} `{name}`", doc.span(path), hint)
    return False


def resolve_entity(ctx: LinkContext, doc: Document, path: Path) -> str | None:
    """The entity (or built-in record) named at path, or None (reported) when it is unknown."""
    name = get(doc.data, path)
    if ctx.resolve("Entity", name, doc, path, builtins=BUILTIN_RECORDS):
        return name
    return None


def resolve_roles(ctx: LinkContext, doc: Document, path: Path) -> tuple[str, ...]:
    names = as_list(get(doc.data, path))
    return tuple(n for i, n in enumerate(names) if ctx.resolve("Role", n, doc, path + (i,)))


def subject_scope(ctx: LinkContext, entity: str | None) -> dict:
    """A scope over one record of `entity`: its fields by name, and the record as `subject`."""
    from dsl.expr.types import FieldInfo
    fields = dict(ctx.decls.records.get(entity, {})) if entity else {}
    if entity:
        fields.setdefault("subject", FieldInfo(record(entity), nullable=False))
    for name in sorted(ctx.decls.bank_wide):      # the bank's own figures, by the entity's name
        fields.setdefault(name, FieldInfo(list_of(record(name)), nullable=False))
    return fields


def user_valued(t: Type | None) -> bool:
    """An assignee expression gives a user or a list of users (null and unknown fit too)."""
    if t is None or t.name in ("any", "null"):
        return True
    if isinstance(t, ListType):
        t = t.element
        if isinstance(t, ListType):
            t = t.element
    return t.name in ("any", "null") or (isinstance(t, RecordType) and t.entity == "user")


def compile_assignees(ctx: LinkContext, doc: Document, path: Path, scope: Mapping):
    """Compile an assignee expression; report (BNY311) a value that is not users."""
    compiled = ctx.expr(doc, path, scope, None)
    if compiled is not None and not user_valued(compiled.type):
        ctx.diags.add("BNY311", f"this expression gives {compiled.type}, but users are needed here",
                      doc.span(path), "give users: \"role('credit_officer')\", \"initiator.supervisor\", "
                                      "or a ref(user) field such as \"form.reviewer\"")
        return None
    return compiled


ROLE_CALL = re.compile(r"\brole\(\s*(['\"])([^'\"]*)\1")


def check_role_calls(ctx: LinkContext, doc: Document, path: Path) -> None:
    """Every `role('name')` written in the expression at path names a Role of the bundle."""
    text = get(doc.data, path)
    if not isinstance(text, str):
        return
    base = doc.expr_span(path)
    for m in ROLE_CALL.finditer(text):
        name = m.group(2)
        if ctx.exists("Role", name):
            continue
        before = text[:m.start(2)]
        span = base.shifted(0, len(before) + 1) if "\n" not in before else base
        hint = did_you_mean(name, ctx.decls.names("Role")) or f"define a Role named `{name}` in configs/roles/"
        ctx.diags.add("BNY401", f"unknown Role `{name}`", span, hint)


def snake(name: str) -> bool:
    return bool(re.match(NAME_PATTERN, name))


def user_record() -> RecordType:
    return record("user")
