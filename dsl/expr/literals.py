"""Reading literal tokens: numbers, money (千, 万, 亿, 元), percents, durations, periods, dates, text."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from ..errors import BanyanError
from ..values import DURATION_UNITS, UNITS
from .types import DATE, DATETIME, DURATION, INTEGER, MONEY, NUMBER, PERCENT, PERIOD, STRING, Type
from .values import Period

# The unit tables are the one value model's (dsl/values), so `1.5亿`, `3千` and `2d` mean in a rule
# what they mean typed into a form, the API, the CLI or a spreadsheet; the grammar's terminals
# (grammar.lark) decide which spellings an expression token may use.
MONEY_UNITS = UNITS                    # 亿元 万元 千元 亿 万 千 元 → power of ten
PERIOD_MONTHS = {"month": 1, "months": 1, "quarter": 3, "quarters": 3, "year": 12, "years": 12}
_SPLIT = re.compile(r"(\d+(?:\.\d+)?)\s*(.*)$", re.S)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"'}


class LiteralError(BanyanError, ValueError):
    """A literal token that cannot be read (a date such as 2026-02-30)."""
    code, status, namespace = "bad_literal", 422, "dsl"


def _whole(value: Decimal) -> Decimal:
    """5E+8 → 500000000: amounts in whole yuan print as people write them."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value


def read_number(text: str) -> tuple[object, Type]:
    if "." in text:
        return Decimal(text), NUMBER
    return int(text), INTEGER


def _split(text: str) -> tuple[str, str]:
    """(number, unit) of a literal with a unit (the grammar has matched its form already)."""
    m = _SPLIT.match(text)
    if m is None:
        raise LiteralError(f"cannot read `{text}`")
    return m.group(1), m.group(2)


def read_money(text: str) -> Decimal:
    number, unit = _split(text)
    return _whole(Decimal(number).scaleb(MONEY_UNITS[unit.strip()]))


def read_percent(text: str) -> Decimal:
    return Decimal(text[:-1]).scaleb(-2)


def read_duration(text: str) -> timedelta:
    number, unit = _split(text)
    amount = Decimal(number)
    return timedelta(**{DURATION_UNITS[unit.strip()]: float(amount) if "." in number else int(amount)})


def read_period(text: str) -> Period:
    number, unit = _split(text)
    return Period(int(number) * PERIOD_MONTHS[unit.strip()])


def read_date(text: str) -> tuple[date, Type]:
    try:
        if "T" in text:
            return datetime.fromisoformat(text), DATETIME
        return date.fromisoformat(text), DATE
    except ValueError as exc:
        raise LiteralError(f"`{text}` is not a real calendar date ({exc})") from None


def read_string(text: str) -> str:
    """The text between the quotes, with \\n \\t \\r \\\\ \\' \\" escapes (others kept as written)."""
    body = text[1:-1]
    if "\\" not in body:
        return body
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append(_ESCAPES.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


MAX_DIGITS = 30           # a number literal (money in 分 up to 10^28 yuan is plenty)
MAX_TEXT = 4096           # a text literal, in characters


def _shown(text: str) -> str:
    return text if len(text) <= 24 else text[:20] + "…"


def read_literal(kind: str, text: str) -> tuple[object, Type]:
    """Value and type of a literal token of terminal `kind`; LiteralError if malformed or larger
    than a rule needs (MAX_DIGITS, MAX_TEXT): evaluation has a budget only if its inputs do."""
    if kind == "STRING" and len(text) > MAX_TEXT + 2:
        raise LiteralError(f"a text literal of {len(text) - 2:,} characters; at most {MAX_TEXT:,} are read")
    if kind != "STRING" and kind != "DATE" and sum(c.isdigit() for c in text) > MAX_DIGITS:
        raise LiteralError(f"`{_shown(text)}` has {sum(c.isdigit() for c in text):,} digits; "
                           f"a number has at most {MAX_DIGITS}")
    try:
        if kind in ("INT", "DECIMAL"):
            return read_number(text)
        if kind == "MONEY":
            return read_money(text), MONEY
        if kind == "PERCENT":
            return read_percent(text), PERCENT
        if kind == "DURATION":
            return read_duration(text), DURATION
        if kind == "PERIOD":
            return read_period(text), PERIOD
        if kind == "DATE":
            return read_date(text)
        if kind == "STRING":
            return read_string(text), STRING
    except (InvalidOperation, OverflowError, KeyError, AttributeError) as exc:
        raise LiteralError(f"cannot read `{text}` ({type(exc).__name__})") from None
    raise LiteralError(f"cannot read `{text}`")
