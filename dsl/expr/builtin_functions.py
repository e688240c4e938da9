"""The functions every Banyan expression can call (registered into functions.REGISTRY)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Sequence

from .functions import Function, Signature, TypeSet, register
from .runtime import ARITHMETIC
from .typerules import assignable, equatable, is_open
from .types import ANY, BOOL, DATE, DATETIME, INTEGER, STRING, ListType, MapType, Type
from .uscc import is_uscc
from .values import add_months, as_datetime

NUMERIC = TypeSet("a number", frozenset({"number", "integer", "money", "percent"}))
TEXT = TypeSet("a text", frozenset({"string", "enum"}))
TIME = TypeSet("a date", frozenset({"date", "datetime"}))
DATE_SOURCE = TypeSet("a date or a text such as '2026-03-31'", frozenset({"string", "date", "datetime"}))
SIZED = TypeSet("a text or a list", frozenset({"string", "enum", "list"}))
KEYED = TypeSet("a text or a number", frozenset({"string", "enum", "number", "integer", "money", "percent"}))
MAP = TypeSet("a mapping such as {weak: 20, strong: 90}", frozenset({"map"}))


def _same_as_first(types: Sequence[Type]) -> Type:
    return types[0]


def _round(value, digits=0):
    """Half away from zero, as bankers' reports round (1.25 → 1.3, -1.25 → -1.3; 1.005 → 1.01 at 2
    digits: the decimal is exact). A whole number stays whole. More than 28 significant digits in
    the result is an error (the language's precision, runtime.ARITHMETIC)."""
    if isinstance(value, int) and digits >= 0:
        return value
    result = Decimal(value).quantize(Decimal((0, (1,), -digits)), rounding=ROUND_HALF_UP, context=ARITHMETIC)
    return int(result) if isinstance(value, int) else result


def _abs(value):
    """The magnitude; a decimal result is held to the language's 28 significant digits."""
    return ARITHMETIC.abs(value) if isinstance(value, Decimal) else abs(value)


def _coalesce_type(types: Sequence[Type]) -> Type | str:
    known = [t for t in types if not is_open(t)]
    if not known:
        return types[0]
    first = known[0]
    for t in known[1:]:
        if not (assignable(t, first) or assignable(first, t)):
            return f"coalesce needs values of one type, got {first} and {t}"
    return first


def _coalesce(*values):
    for v in values:
        if v is not None:
            return v
    return None


def _contains_type(types: Sequence[Type]) -> Type | str:
    container, item = types
    if isinstance(container, ListType):
        if not equatable(container.element, item):
            return f"a list of {container.element} cannot contain {item}"
    elif container.name in ("string", "enum") and item.name not in ("string", "enum", "any", "null"):
        return f"a text can only contain a text, not {item}"
    return BOOL


def _to_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _band_type(types: Sequence[Type]) -> Type | str:
    value, mapping = types
    if not isinstance(mapping, MapType):
        return mapping if is_open(mapping) else "the second argument of band is a mapping such as {weak: 20}"
    if mapping.key.name == "string" and value.name not in ("string", "enum", "any", "null"):
        return f"band by text labels needs a text or enum value, not {value}"
    if mapping.key.name in ("number", "integer", "money", "percent") and \
            value.name not in ("number", "integer", "money", "percent", "any", "null"):
        return f"band by numeric thresholds needs a number, not {value}"
    return mapping.value


def _band(value, mapping):
    """Labels: the entry for the value. Numbers: the entry of the largest threshold ≤ value."""
    if isinstance(value, str):
        return mapping.get(value)
    best = None
    for threshold, result in mapping.items():
        if threshold <= value and (best is None or threshold > best[0]):
            best = (threshold, result)
    return best[1] if best else None


def _quarter(value):
    return (value.month - 1) // 3 + 1


def _days_between(start, end):
    if isinstance(start, datetime) or isinstance(end, datetime):
        return (as_datetime(end) - as_datetime(start)).days
    return (end - start).days


BUILTINS: dict[str, Function] = {}
"""The built-ins as registered here (forms/client.py sends to the browser only calls of these)."""


def _register_all() -> None:
    def r(name, *args, **options):
        BUILTINS[name] = register(name, *args, **options)
    r("abs", Signature((NUMERIC,), _same_as_first), _abs, doc="absolute value")
    r("round", Signature((NUMERIC, INTEGER), _same_as_first, optional=1), _round,
      doc="round half away from zero to `digits` decimals (default 0)")
    r("coalesce", Signature((ANY,), _coalesce_type, variadic=True), _coalesce, nulls="accept",
      doc="the first argument that is not null")
    r("is_null", Signature((ANY,), BOOL), lambda v: v is None, nulls="accept", nullable=False,
      doc="true when the value is null (missing)")
    r("len", Signature((SIZED,), INTEGER), len, doc="number of characters of a text or elements of a list")
    r("lower", Signature((TEXT,), STRING), str.lower, doc="text in lower case")
    r("upper", Signature((TEXT,), STRING), str.upper, doc="text in upper case")
    r("trim", Signature((TEXT,), STRING), str.strip, doc="text without leading and trailing spaces")
    r("contains", Signature((SIZED, ANY), _contains_type), lambda c, x: x in c,
      doc="a text contains a text, or a list contains a value")
    r("starts_with", Signature((TEXT, TEXT), BOOL), str.startswith, doc="text begins with a prefix")
    r("ends_with", Signature((TEXT, TEXT), BOOL), str.endswith, doc="text ends with a suffix")
    r("date", Signature((DATE_SOURCE,), DATE), _to_date, doc="a date from a text such as '2026-03-31' or a datetime")
    r("today", Signature((), DATE), lambda now: now.date(), pure=False, uses_now=True, nullable=False,
      doc="the current date of the evaluation ($now)")
    r("now", Signature((), DATETIME), lambda now: now, pure=False, uses_now=True, nullable=False,
      doc="the current time of the evaluation ($now)")
    r("year", Signature((TIME,), INTEGER), lambda d: d.year, doc="the year of a date")
    r("month", Signature((TIME,), INTEGER), lambda d: d.month, doc="the month (1-12) of a date")
    r("day", Signature((TIME,), INTEGER), lambda d: d.day, doc="the day of the month of a date")
    r("quarter", Signature((TIME,), INTEGER), _quarter, doc="the quarter (1-4) of a date")
    r("days_between", Signature((TIME, TIME), INTEGER), _days_between,
      doc="whole days from the first date to the second (negative when the second is earlier)")
    r("add_months", Signature((DATE, INTEGER), DATE), add_months,
      doc="the date moved by whole months, a month's last day to the target month's last day "
          "(add_months(start_date, form.term_months): a term's end)")
    r("is_uscc", Signature((TEXT,), BOOL), is_uscc,
      doc="a valid 18-character unified social credit code (GB 32100-2015 check character)")
    r("band", Signature((KEYED, MAP), _band_type), _band,
      doc="{label: score} picks the label's score; {threshold: score} the score of the largest threshold ≤ value")


_register_all()
