"""Typed values → text: for an input's `value` (what a person edits) and for reading.

Money reads `¥12,345,678.90` with the 万/亿 figure beside it, a percent `70%`, an enum its
label, a date and time in the bank's time zone.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from dsl.bank_time import moment_text
from dsl.values.writer import write_value

from .i18n import in_wan_yi, plain_number, word

CURRENCY_SIGNS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "GBP": "£", "JPY": "JP¥"}


def datetime_text(value: datetime, tz: str | None = None, *, input: bool = False) -> str:
    """A moment on the bank's clock: `tz` is the zone's name (the caller's, e.g. BANYAN_TIMEZONE's;
    None: the bank's, dsl/bank_time.py); a naive moment is UTC, as Banyan stores it. `input`: the
    `2026-10-09T10:00` a datetime-local input takes, else `2026-10-09 10:00`."""
    return moment_text(value, tz, input=input)


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _number(value: Any) -> Decimal | None:
    """A stored number as a Decimal, or None when it is not one (a value stored before its field
    was checked, as text: it is shown as written, never a failure of the page)."""
    if isinstance(value, bool):
        return None
    try:
        d = _decimal(value)
    except (ArithmeticError, ValueError, TypeError):
        return None
    return d if d.is_finite() else None


def duration_text(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def input_text(f: Any, value: Any, tz: str | None = None) -> str:
    """The text an input shows for a stored value (round-trips through values.parse_text)."""
    if value is None:
        return ""
    t = f.type_name
    if t in ("money", "number", "percent") and _number(value) is None:
        return str(value)
    if t in ("money", "number"):
        d = _decimal(value)
        return f"{d.quantize(Decimal(1).scaleb(-f.scale)):f}" if f.scale is not None else f"{d.normalize():f}"
    if t == "percent":
        return f"{(_decimal(value) * 100).normalize():f}"
    if t == "datetime" and isinstance(value, datetime):
        return datetime_text(value, tz, input=True)
    if t == "date" and isinstance(value, date):
        return value.isoformat()
    if t == "duration" and isinstance(value, timedelta):
        return duration_text(value)
    if t == "bool":
        return "true" if value else ""
    return str(value)


def enum_label(f: Any, value: Any, lang: str) -> str:
    for v in f.values:
        if v.value == value:
            return v.label.text(lang) or v.value
    return str(value)


def money_currency(f: Any, record: Any = None) -> str | None:
    """The currency of a money field's value: fixed by the field (`currency: CNY`) or held by the
    record's own field (`currency: {field: currency}`); None when the record is not at hand."""
    held = getattr(f, "currency_field", None)
    if held:
        code = record.get(held) if hasattr(record, "get") else None
        return code if isinstance(code, str) and code else None
    return getattr(f, "currency", None) or "CNY"


def display_text(f: Any, value: Any, lang: str, tz: str | None = None, *, record: Any = None) -> str:
    """How a value reads on a detail page or in a list cell (`record`: the rest of the record, for a
    money field whose currency one of its fields holds)."""
    if value is None or value == [] or value == "":
        return word("empty", lang)
    t = f.type_name
    if t in ("money", "number", "percent", "integer") and _number(value) is None:
        return str(value)            # not a number (stored unchecked): as written
    if t == "integer" and _number(value) != int(_decimal(value)):
        return str(value)
    if t == "money":
        code = money_currency(f, record)
        figure = plain_number(_decimal(value), f.scale if f.scale is not None else 2)
        if code is None:                     # the currency is the record's and it is not known here
            return figure
        return CURRENCY_SIGNS.get(code, code + " ") + figure
    if t == "number":
        return plain_number(_decimal(value), f.scale)
    if t == "integer":
        return f"{int(value):,}"
    if t == "percent":
        pct = (_decimal(value) * 100)
        return f"{pct.quantize(Decimal('0.01')).normalize():f}%"
    if t == "bool":
        return word("yes" if value else "no", lang)
    if t == "enum":
        return enum_label(f, value, lang)
    if t == "multi_enum":
        items = value if isinstance(value, (list, tuple)) else [value]
        return ("、" if lang == "zh" else ", ").join(enum_label(f, v, lang) for v in items)
    if t == "datetime" and isinstance(value, datetime):
        return datetime_text(value, tz)
    if t == "duration" and isinstance(value, timedelta):
        return duration_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def value_text(value: Any, kind: str | None, lang: str) -> str:
    """A computed value of an expression's type (`kind`: percent, money …) as people read it — an
    alert's evidence, a step of a rule's trace: a percent to 4 places of a point (15.5%, not
    15.4999999997666…%), money in 万/亿 (6,234万; small amounts as they are), yes/no, a date in
    ISO form, null as —."""
    if value is None:
        return "—"
    number = None if isinstance(value, bool) else _number(value)
    if kind == "percent" and number is not None:
        fraction = number.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        return str(write_value("percent", fraction, target="text"))
    if kind == "money" and number is not None:
        return in_wan_yi(number, lang) or f"{number.normalize():,f}"
    if isinstance(value, bool):
        return word("yes" if value else "no", lang)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value.is_finite() else str(value)
    return str(value)


def amount_hint(f: Any, value: Any, lang: str) -> str:
    """`1.5亿` beside a large money or number value (empty when small or not a number)."""
    if value is None or f.type_name not in ("money", "number"):
        return ""
    try:
        return in_wan_yi(_decimal(value), lang)
    except (ArithmeticError, ValueError):
        return ""
