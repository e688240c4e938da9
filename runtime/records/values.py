"""Turning input (JSON, CSV text, spreadsheet cells, Python values) into the runtime values of
dsl/expr/types.py, one converter per field, built once per entity.

A converter returns the value or raises `BadValue` with a message for the person who typed it.
Empty text is null. References are returned as given (a key or an id); the records service
resolves them in bulk.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from dsl.errors import BanyanError

Converter = Callable[[Any], Any]

_TRUE = {"true", "yes", "y", "1", "是", "t"}
_FALSE = {"false", "no", "n", "0", "否", "f"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|h|m|s|min)\s*$")


class BadValue(BanyanError):
    code, status, namespace = "bad_value", 422, "records"


BIGINT = 2 ** 63                      # integer fields are 64-bit columns on both databases


def _kind(v: Any) -> str:
    """What a JSON value is, in a person's words (never Python's type names)."""
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, (list, tuple)):
        return "a list"
    if isinstance(v, (int, float, Decimal)):
        return "a number"
    if isinstance(v, str):
        return "text"
    return "a value of another kind"


def _text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        raise BadValue(f"expected text, got {v!r}")
    if isinstance(v, (int, Decimal)):
        return str(v)
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    raise BadValue(f"expected text, got {_kind(v)}")


def _integer(v: Any) -> int:
    if isinstance(v, bool):
        raise BadValue(f"expected a whole number, got {v!r}")
    n: int | None = None
    if isinstance(v, int):
        n = v
    elif isinstance(v, (float, Decimal)):
        d = Decimal(repr(v)) if isinstance(v, float) else v
        if d.is_finite() and d == d.to_integral_value() and d.adjusted() < 19:
            n = int(d)
    elif isinstance(v, str):
        s = v.strip().replace(",", "")
        if re.fullmatch(r"[+-]?\d+", s):
            n = int(s) if len(s) <= 25 else BIGINT          # no need to read a thousand digits to refuse them
    if n is None:
        raise BadValue(f"`{v}` is not a whole number")
    if not -BIGINT <= n < BIGINT:
        raise BadValue(f"`{v}` is too large for a whole-number field (at most 19 digits)")
    return n


def _decimal(v: Any, percent: bool = False) -> Decimal:
    if v.__class__ is Decimal:
        return v
    if isinstance(v, bool):
        raise BadValue(f"expected a number, got {v!r}")
    if isinstance(v, Decimal):
        return v
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise BadValue(f"`{v}` is not a number")
        return Decimal(repr(v))
    if isinstance(v, str):
        s = v.strip().replace(",", "")
        factor = Decimal(1)
        if percent and s.endswith("%"):
            s, factor = s[:-1].strip(), Decimal("0.01")
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise BadValue(f"`{v}` is not a number") from None
        if not d.is_finite():
            raise BadValue(f"`{v}` is not a number")
        return d * factor
    raise BadValue(f"expected a number, got {_kind(v)}")


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    raise BadValue(f"`{v}` is not true or false")


def _date(v: Any) -> date:
    if isinstance(v, datetime):
        if v.time() != time(0):
            raise BadValue(f"`{v}` has a time of day; a date is expected")
        return v.date()
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v.strip())
        except ValueError:
            pass
    raise BadValue(f"`{v}` is not a date (write YYYY-MM-DD)")


def _datetime(v: Any) -> datetime:
    if isinstance(v, str):
        try:
            v = datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
        except ValueError:
            raise BadValue(f"`{v}` is not a date and time (write YYYY-MM-DDTHH:MM:SS)") from None
    elif isinstance(v, date) and not isinstance(v, datetime):
        v = datetime.combine(v, time(0))
    if not isinstance(v, datetime):
        raise BadValue(f"expected a date and time, got {_kind(v)}")
    return v.replace(tzinfo=timezone.utc) if v.tzinfo is None else v.astimezone(timezone.utc)


def _duration(v: Any) -> timedelta:
    if isinstance(v, timedelta):
        return v
    try:
        if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
            return timedelta(seconds=float(v))
        m = _DURATION.match(v) if isinstance(v, str) else None
        if m:
            n, unit = float(m.group(1)), m.group(2)
            return timedelta(**{{"d": "days", "h": "hours", "m": "minutes", "min": "minutes", "s": "seconds"}[unit]: n})
    except (OverflowError, ValueError):      # longer than timedelta holds (~2.7 million years), or not finite
        raise BadValue(f"`{v}` is not a duration Banyan can hold (at most 999999999 days)") from None
    raise BadValue(f"`{v}` is not a duration (write e.g. 2d, 24h, 30m)")


def _multi(values: tuple[str, ...]) -> Converter:
    def convert(v: Any) -> list[str]:
        items = v if isinstance(v, (list, tuple)) else [s for s in re.split(r"[;,；，]", _text(v)) if s.strip()]
        out = [_text(i).strip() for i in items]
        bad = [i for i in out if i not in values]
        if bad:
            raise BadValue(f"{', '.join(bad)} not among: {', '.join(values)}")
        return out
    return convert


def _ref(v: Any) -> Any:
    if isinstance(v, bool):
        raise BadValue(f"expected a reference, got {v!r}")
    if isinstance(v, (int, str)):
        return v.strip() if isinstance(v, str) else v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise BadValue(f"expected the key of a record, got {_kind(v)}")


def converter(field: Any) -> Converter:
    """The converter for one EntityField (without the null check: callers map empty to None first)."""
    t = field.type_name
    if t in ("string", "text", "file"):
        return _text
    if t == "integer":
        return _integer
    if t in ("number", "money"):
        return _decimal
    if t == "percent":
        return lambda v: _decimal(v, percent=True)
    if t == "bool":
        return _bool
    if t == "date":
        return _date
    if t == "datetime":
        return _datetime
    if t == "duration":
        return _duration
    if t == "enum":
        allowed = frozenset(v.value for v in field.values)

        def enum_value(v: Any) -> str:
            s = _text(v).strip()
            if s not in allowed:
                from dsl.diagnostics import did_you_mean
                hint = did_you_mean(s, sorted(allowed))
                raise BadValue(f"`{s}` is not one of: {', '.join(v.value for v in field.values)}"
                               + (f" ({hint})" if hint else ""))
            return s
        return enum_value
    if t == "multi_enum":
        return _multi(tuple(v.value for v in field.values))
    if t == "ref":
        return _text if field.ref in ("org_unit", "user") else _ref
    raise BadValue(f"no converter for type {t}")


def is_empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and (not v or v.isspace()))


def loader(field: Any) -> Converter:
    """`converter(field)` with the null check built in: empty input (None, blank text) is None.
    Text and enum fields, the most common, get one function that does both."""
    t = field.type_name
    if t in ("string", "text", "file") or (t == "ref" and field.ref in ("org_unit", "user")):
        def text(v: Any) -> str | None:
            if isinstance(v, str):
                return None if not v or v.isspace() else v
            return None if v is None else _text(v)
        return text
    if t == "enum":
        check = converter(field)
        allowed = frozenset(v.value for v in field.values)

        def enum_value(v: Any) -> str | None:
            if isinstance(v, str):
                s = v.strip()
                if not s:
                    return None
                if s in allowed:
                    return s
            elif v is None:
                return None
            return check(v)
        return enum_value
    conv = converter(field)
    # a value already of the field's runtime type is taken as it is (what `conv` would return)
    ready = {"integer": int, "number": Decimal, "money": Decimal, "percent": Decimal, "date": date,
             "bool": bool}.get(t)

    def load(v: Any) -> Any:
        if v.__class__ is ready:
            return v
        if v is None or (isinstance(v, str) and (not v or v.isspace())):
            return None
        return conv(v)
    return load
