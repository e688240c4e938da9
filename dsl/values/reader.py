"""One reader for every door: a person's input for a field → the runtime value of
dsl/expr/types.py (or None when blank), or `BadValue`.

`source` says what the input is: "json" (the API, Python values), "text" (the CLI, CSV), "form"
(posted form text), "excel" (an XLSX cell as openpyxl gives it). They read text alike; an Excel
cell differs in two ways: a number in a date field is a serial day number, and a cell formatted
as a percentage (`percent_cell=True`) holds the fraction (0.7 is 70%).
"""
from __future__ import annotations

import os
from datetime import date, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any, Callable, Protocol
from zoneinfo import ZoneInfo

from .choices import Choices, read_bool, read_duration, read_reference, read_text
from .dates import read_date, read_datetime
from .errors import BadValue
from .numbers import WHOLE_DIGITS, read_amount, read_integer, read_percent

SOURCES = ("json", "text", "form", "excel")
TEXT_TYPES = ("string", "text", "file")
PEOPLE_REFS = ("org_unit", "user")          # referenced by their own codes, not resolved as records
Reader = Callable[..., Any]


class FieldLike(Protocol):
    name: str
    type_name: str


def bank_zone() -> tzinfo:
    """The bank's time zone for date-times typed without an offset: `BANYAN_TIMEZONE`, else Asia/Shanghai."""
    try:
        return ZoneInfo(os.environ.get("BANYAN_TIMEZONE") or "Asia/Shanghai")
    except (ValueError, KeyError, OSError):
        return timezone(timedelta(hours=8))


def is_blank(raw: Any) -> bool:
    """None, empty text or text of spaces only (U+3000 included) is no value."""
    return raw is None or (isinstance(raw, str) and (not raw or raw.isspace()))


def _scalar(field: Any, source: str, zone: tzinfo) -> Callable[[Any, bool], Any]:
    """(raw, percent_cell) → value, for a non-blank raw."""
    t = field.type_name
    excel = source == "excel"
    if t == "string" or (t == "ref" and getattr(field, "ref", None) in PEOPLE_REFS):
        return lambda raw, _p: read_text(raw).strip()          # one line: outer spaces are not meant
    if t in TEXT_TYPES:
        return lambda raw, _p: read_text(raw)
    if t == "integer":
        return lambda raw, _p: read_integer(raw)
    if t in ("number", "money"):
        scale = getattr(field, "scale", None)
        return lambda raw, _p: read_amount(raw, scale)
    if t == "percent":
        return lambda raw, cell: read_percent(raw, fraction=excel and cell)
    if t == "bool":
        return lambda raw, _p: read_bool(raw)
    if t == "date":
        return lambda raw, _p: read_date(raw, excel=excel)
    if t == "datetime":
        return lambda raw, _p: read_datetime(raw, tz=zone, excel=excel, naive_is_local=excel)
    if t == "duration":
        return lambda raw, _p: read_duration(raw)
    if t == "enum":
        choices = Choices(getattr(field, "values", ()))
        return lambda raw, _p: choices.read(raw)
    if t == "multi_enum":
        many = Choices(getattr(field, "values", ()))
        return lambda raw, _p: many.read_many(raw) or None
    if t == "ref":
        return lambda raw, _p: read_reference(raw)
    raise BadValue("type", t)


# a value already of the field's runtime type is taken as it is
_READY: dict[str, type] = {"integer": int, "number": Decimal, "money": Decimal, "percent": Decimal,
                           "date": date, "bool": bool}


def value_reader(field: Any, *, source: str = "json", tz: tzinfo | str | None = None) -> Reader:
    """The reader of one field, built once: `reader(raw, percent_cell=False)` → value or None."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}")
    zone = ZoneInfo(tz) if isinstance(tz, str) else (tz or bank_zone())
    scalar = _scalar(field, source, zone)
    ready = _READY.get(field.type_name)
    scale = getattr(field, "scale", None) if field.type_name in ("number", "money") else None
    if field.type_name in ("number", "money"):
        ready = None                       # a Decimal is checked: finite, its decimals, 5E+8 written out

    t = field.type_name

    def read(raw: Any, percent_cell: bool = False) -> Any:
        if raw.__class__ is ready:
            return raw
        if raw is None or (isinstance(raw, str) and (not raw or raw.isspace())):
            return None
        return scalar(raw, percent_cell)

    # The commonest inputs, read by shorter paths that give the same values as `read`
    # (a bulk import reads every field of every row).
    if t == "string" or (t == "ref" and getattr(field, "ref", None) in PEOPLE_REFS):
        def read_line(raw: Any, percent_cell: bool = False) -> Any:
            if raw.__class__ is str:
                return raw.strip() or None           # blank (U+3000 too) is no value
            return read(raw, percent_cell)
        return read_line
    if t in TEXT_TYPES:
        def read_text_as_is(raw: Any, percent_cell: bool = False) -> Any:
            if raw.__class__ is str:
                return None if not raw or raw.isspace() else raw
            return read(raw, percent_cell)
        return read_text_as_is
    if t == "enum":
        codes = frozenset(getattr(v, "value", v) for v in getattr(field, "values", ()))

        def read_code(raw: Any, percent_cell: bool = False) -> Any:
            if raw.__class__ is str and raw in codes:
                return raw
            return read(raw, percent_cell)
        return read_code
    if t in ("number", "money"):
        fewest = -scale if scale is not None else -10**9

        def read_number(raw: Any, percent_cell: bool = False) -> Any:
            if raw.__class__ is Decimal:             # finite, written out, at most `scale` decimals
                exponent = raw.as_tuple().exponent
                if exponent.__class__ is int and fewest <= exponent <= 0 and (
                        raw.adjusted() < WHOLE_DIGITS):
                    return raw
            return read(raw, percent_cell)
        return read_number
    return read


def read_value(field: Any, raw: Any, *, source: str = "json", percent_cell: bool = False,
               tz: tzinfo | str | None = None) -> Any:
    """One value (see the module docstring); for many values of one field use `value_reader`."""
    return value_reader(field, source=source, tz=tz)(raw, percent_cell)


__all__ = ["BadValue", "FieldLike", "bank_zone", "is_blank", "read_value", "value_reader"]
