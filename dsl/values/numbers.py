"""Numbers as people type them: `1,234.56`, `1，234`, `１２３．５`, `-1.5亿`, `3000万元`, `¥12千`,
`(1,234.00)`, `70%`; integers, money and percents built on them.

The unit table `UNITS` is the one the expression language's literals read too (dsl/expr/literals.py).
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import BadValue

# unit → power of ten (amounts are in yuan)
UNITS: dict[str, int] = {"亿元": 8, "万元": 4, "千元": 3, "亿": 8, "万": 4, "千": 3, "元": 0}
BIGINT = 2 ** 63                   # integer fields are 64-bit columns on both databases
MAX_DIGITS = 30                    # no need to read a thousand digits to refuse them
WHOLE_DIGITS = 24                  # digits before the point, at most: 万亿亿 (10^20) with room to spare

# full-width digits and punctuation (what a Chinese input method types) → ASCII
_WIDE: dict[int, int | str] = {ord("０") + i: ord("0") + i for i in range(10)}
_WIDE.update({ord("．"): ".", ord("，"): ",", ord("－"): "-", ord("＋"): "+", ord("％"): "%",
              ord("−"): "-", ord("（"): "(", ord("）"): ")", ord("　"): " ", ord("｡"): ".",
              ord("Ｅ"): "E", ord("ｅ"): "e"})
_SPACES = re.compile(r"[\s\u00a0\u2009\u202f']+")     # spaces, no-break and thin spaces, the Swiss apostrophe
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_CURRENCY = ("¥", "￥", "CNY", "RMB", "rmb", "cny")


def ascii_text(text: str) -> str:
    """Full-width digits and punctuation made ASCII, spaces removed."""
    if text.isascii() and text.isprintable() and " " not in text and "'" not in text:
        return text                        # the commonest cell: nothing to change (an import reads many)
    return _SPACES.sub("", text.translate(_WIDE))


def _plain(s: str, raw: Any, code: str) -> Decimal:
    """A plain number (with correctly grouped thousands separators) → Decimal."""
    if "," in s:
        if not _GROUPED.fullmatch(s):
            raise BadValue(code, raw)
        s = s.replace(",", "")
    if not _NUMBER.fullmatch(s) or (len(s) > MAX_DIGITS and sum(c.isdigit() for c in s) > MAX_DIGITS):
        raise BadValue(code, raw)
    try:
        d = Decimal(s)
    except InvalidOperation:                   # pragma: no cover - the pattern admits only numbers
        raise BadValue(code, raw) from None
    return d


def _negated(s: str) -> tuple[str, bool]:
    """Accountants' `(1,234.00)` is −1,234.00."""
    if len(s) > 2 and s[0] == "(" and s[-1] == ")":
        return s[1:-1], True
    return s, False


def read_decimal(raw: Any, code: str = "number") -> Decimal:
    """A number or an amount: plain, grouped, full-width, with a unit (千/万/亿, 元, 万元, 亿元)
    and a currency sign. Python numbers are taken as they are (floats by their shortest text)."""
    if isinstance(raw, bool):
        raise BadValue(code, raw)
    if isinstance(raw, Decimal):
        if not raw.is_finite():
            raise BadValue(code, raw)
        return _bounded(raw, raw)
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise BadValue(code, raw)
        return Decimal(repr(raw))
    if not isinstance(raw, str):
        raise BadValue(code, raw)
    s, negative = _negated(ascii_text(raw))
    for sign in _CURRENCY:
        if s.startswith(sign):
            s = s[len(sign):]
            break
        if s.startswith("-" + sign):
            s = "-" + s[1 + len(sign):]
            break
    power = 0
    for unit, exp in UNITS.items():            # longest units first (亿元 before 元)
        if s.endswith(unit):
            s, power = s[:-len(unit)], exp
            break
    d = _plain(s, raw, code).scaleb(power)
    return _bounded(-d if negative else d, raw)


def _bounded(d: Decimal, raw: Any) -> Decimal:
    """A number with more than `WHOLE_DIGITS` digits before the point is no amount anyone means
    (and more than Decimal's 28 digits of precision could hold exactly)."""
    if d and d.adjusted() >= WHOLE_DIGITS:
        raise BadValue("number_too_large", raw, limit=WHOLE_DIGITS)
    return d


def whole(d: Decimal) -> Decimal:
    """5E+8 → 500000000: an amount scaled by a unit prints as people write it."""
    if d == d.to_integral_value() and d.as_tuple().exponent > 0:   # type: ignore[operator]
        return d.quantize(Decimal(1))
    return d


def read_amount(raw: Any, scale: int | None = None) -> Decimal:
    """Money or a number; with `scale`, more decimals than it allows are refused (`12.345` for a
    two-decimal amount), as people would otherwise lose the fraction silently."""
    d = whole(read_decimal(raw))
    if scale is not None:
        exponent = d.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > scale:
            raise BadValue("scale", raw, limit=scale)
    return d


def read_integer(raw: Any) -> int:
    """A whole number, also written with separators or a unit (`1,200`, `3万`)."""
    if isinstance(raw, bool):
        raise BadValue("integer", raw)
    if isinstance(raw, int):
        n = raw
    else:
        try:
            d = read_decimal(raw, "integer")
        except BadValue as exc:            # a whole number's own limit says it better
            if exc.code == "number_too_large":
                raise BadValue("too_large", raw) from None
            raise
        if d != d.to_integral_value():
            raise BadValue("integer", raw)
        if d.adjusted() >= 19:
            raise BadValue("too_large", raw)
        n = int(d)
    if not -BIGINT <= n < BIGINT:
        raise BadValue("too_large", raw)
    return n


def read_percent(raw: Any, *, fraction: bool = False) -> Decimal:
    """A share as its runtime value, the fraction (70% → Decimal('0.70'), like the literal `70%`).

    Text and JSON numbers are percent points, with or without `%` (`70`, `"70"`, `"70%"` → 0.70).
    A `Decimal` is already the runtime value; `fraction=True` says a number is the fraction
    itself (an Excel cell formatted as a percentage holds 0.7 for 70%)."""
    if isinstance(raw, Decimal):
        return read_decimal(raw, "percent")
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        d = read_decimal(raw, "percent")
        return d if fraction else d.scaleb(-2)
    if isinstance(raw, str):
        s = ascii_text(raw)
        if s.endswith("%"):
            s = s[:-1]
        if not s:
            raise BadValue("percent", raw)
        return _plain(s, raw, "percent").scaleb(-2)
    raise BadValue("percent", raw)
