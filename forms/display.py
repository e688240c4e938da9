"""Typed values → text: for an input's `value` (what a person edits) and for reading.

Money reads `¥12,345,678.90` with the 万/亿 figure beside it, a percent `70%`, an enum its
label, a date and time in the bank's time zone.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .i18n import in_wan_yi, plain_number, word

CURRENCY_SIGNS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "GBP": "£", "JPY": "JP¥"}


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def duration_text(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def input_text(f: Any, value: Any, tz: str = "Asia/Shanghai") -> str:
    """The text an input shows for a stored value (round-trips through values.parse_text)."""
    if value is None:
        return ""
    t = f.type_name
    if t in ("money", "number"):
        d = _decimal(value)
        return f"{d.quantize(Decimal(1).scaleb(-f.scale)):f}" if f.scale is not None else f"{d.normalize():f}"
    if t == "percent":
        return f"{(_decimal(value) * 100).normalize():f}"
    if t == "datetime" and isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")
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


def display_text(f: Any, value: Any, lang: str, tz: str = "Asia/Shanghai") -> str:
    """How a value reads on a detail page or in a list cell."""
    if value is None or value == [] or value == "":
        return word("empty", lang)
    t = f.type_name
    if t == "money":
        sign = CURRENCY_SIGNS.get(f.currency or "CNY", (f.currency or "") + " ")
        return sign + plain_number(_decimal(value), f.scale if f.scale is not None else 2)
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
        return ("、" if lang == "zh" else ", ").join(enum_label(f, v, lang) for v in value)
    if t == "datetime" and isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    if t == "duration" and isinstance(value, timedelta):
        return duration_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def amount_hint(f: Any, value: Any, lang: str) -> str:
    """`1.5亿` beside a large money or number value (empty when small or not a number)."""
    if value is None or f.type_name not in ("money", "number"):
        return ""
    try:
        return in_wan_yi(_decimal(value), lang)
    except (ArithmeticError, ValueError):
        return ""
