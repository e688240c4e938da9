"""Typing rules: what an operator gives for its operand types, what can be compared with what,
and what may stand where a type is expected. Pure functions of types; the checker reports.

Money rules in short: money ± money = money, money × (number | percent) = money,
money ÷ money = number, money ÷ number = money; money never mixes with percent in + − or
comparisons. Dates: date − date = duration, date ± duration = date, date ± period = date.
"""
from __future__ import annotations

from .types import ANY, DURATION, INTEGER, MONEY, NUMBER, PERCENT, STRING, EnumType, ListType, MapType, RecordType, Type

_PLAIN = {"number", "integer"}
ORDERED = frozenset({"number", "integer", "money", "percent", "date", "datetime", "duration", "string"})
_TIMES = {"date", "datetime"}


def is_open(t: Type) -> bool:
    """Null and unknown (an earlier error) types fit anywhere, so one mistake is reported once."""
    return t.name in ("any", "null")


def _numeric_add(a: str, b: str) -> Type | None:
    if a == "money" or b == "money":
        return MONEY if {a, b} <= {"money", "number", "integer"} else None
    if a == "percent" or b == "percent":
        return PERCENT if {a, b} <= {"percent", "number", "integer"} else None
    if a == b == "integer":
        return INTEGER
    if {a, b} <= _PLAIN:
        return NUMBER
    return None


def arithmetic(op: str, lt: Type, rt: Type) -> Type | None:
    """Result type of `lt op rt` for + - * /, or None when the operator does not apply."""
    if is_open(lt) or is_open(rt):
        other = rt if is_open(lt) else lt
        return ANY if other.name == "any" else other
    a, b = lt.name, rt.name
    if op in "+-":
        numeric = _numeric_add(a, b)
        if numeric is not None:
            return numeric
        if a in _TIMES and b in ("duration", "period"):
            return lt
        if op == "+" and b in _TIMES and a in ("duration", "period"):
            return rt
        if op == "-" and a in _TIMES and b in _TIMES:
            return DURATION
        if a == b == "duration":
            return DURATION
        if op == "+" and {a, b} <= {"string", "enum"}:
            return STRING
        return None
    if op == "*":
        if "money" in (a, b):
            factor = b if a == "money" else a
            return MONEY if factor in ("number", "integer", "percent") else None
        if "percent" in (a, b):
            factor = b if a == "percent" else a
            return PERCENT if factor in ("number", "integer", "percent") else None
        if a == b == "integer":
            return INTEGER
        if {a, b} <= _PLAIN:
            return NUMBER
        if "duration" in (a, b) and ({a, b} - {"duration"}) <= _PLAIN and a != b:
            return DURATION
        return None
    if op == "/":
        if a == "money":
            return NUMBER if b == "money" else MONEY if b in ("number", "integer", "percent") else None
        if a == "percent":
            return NUMBER if b == "percent" else PERCENT if b in _PLAIN else None
        if a in _PLAIN and b in ("number", "integer", "percent"):
            return NUMBER
        if a == "duration":
            return NUMBER if b == "duration" else DURATION if b in _PLAIN else None
        return None
    return None


def negatable(t: Type) -> bool:
    return is_open(t) or t.name in ("number", "integer", "money", "percent", "duration")


def orderable(lt: Type, rt: Type) -> bool:
    """May `lt < rt` be written?"""
    if is_open(lt) or is_open(rt):
        return True
    a, b = lt.name, rt.name
    if a not in ORDERED or b not in ORDERED:
        return False
    numeric = {"number", "integer", "money", "percent"}
    if a in numeric and b in numeric:
        return not ({a, b} == {"money", "percent"})
    if a in _TIMES and b in _TIMES:
        return True
    return a == b


def equatable(lt: Type, rt: Type) -> bool:
    """May `lt == rt` be written? (An enum against text is checked for the value by the checker.)"""
    if orderable(lt, rt):
        return True
    a, b = lt.name, rt.name
    if a == b == "bool":
        return True
    if {a, b} <= {"enum", "string"}:
        return True
    if isinstance(lt, RecordType) and isinstance(rt, RecordType):
        return lt.entity == rt.entity
    return False


def assignable(actual: Type, expected: Type) -> bool:
    """May a value of type `actual` stand where `expected` is needed (a key, a parameter)?"""
    if is_open(actual) or expected.name == "any":
        return True
    a, e = actual.name, expected.name
    if a == e:
        if isinstance(expected, EnumType) and isinstance(actual, EnumType) and expected.values:
            return set(actual.values) <= set(expected.values)
        if isinstance(expected, RecordType) and isinstance(actual, RecordType) and expected.entity:
            return actual.entity == expected.entity
        if isinstance(expected, ListType) and isinstance(actual, ListType):
            return assignable(actual.element, expected.element)
        if isinstance(expected, MapType) and isinstance(actual, MapType):
            return assignable(actual.key, expected.key) and assignable(actual.value, expected.value)
        return True
    if e == "number":
        return a in ("integer", "percent")
    if e in ("percent", "money"):
        return a in _PLAIN
    if e == "string":
        return a == "enum"
    if e == "enum":
        return a == "string"
    return False


def describe(t: Type) -> str:
    """`money`, `list(record(loan))`, … with an article for messages."""
    text = str(t)
    if isinstance(t, EnumType):
        text = "enum"
    if text in ("money", "any"):
        return "money" if text == "money" else "any value"
    return ("an " if text[0] in "aeiou" else "a ") + text

