"""The writing half of the value model: a runtime value → what a door sends out as data, so that
what it sends reads back through `read_value` as the same value (a client may GET a record and
PATCH it back unchanged; a CLI user may paste a value it printed).

Only percents differ from the runtime value: they are stored as the fraction (70% is
Decimal("0.70"), like the expression literal `70%`) but read from text and JSON as percent
points (`70`, `"70"`, `"70%"`), so they are written as points too: "70" on the JSON wire,
"70%" as text. Every other value is returned unchanged (each door's JSON encoder sends decimals
as strings and dates in ISO form, which the reader takes back as they are).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

TARGETS = ("json", "text")


def percent_points(value: Decimal | int | float) -> str:
    """A percent's fraction as percent points, with no trailing zeros: Decimal("0.7000") → "70",
    Decimal("0.125") → "12.5", Decimal("1.5") → "150", Decimal("-0.00") → "0"."""
    d = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    points = d.scaleb(2).normalize()
    if points == 0:
        return "0"
    return f"{points:f}"


def write_value(field_or_type: Any, value: Any, *, target: str = "json") -> Any:
    """`value` (a field's runtime value) as a door writes it out: a percent as its points — "70"
    for JSON (`target="json"`), "70%" for people and the CLI (`target="text"`); blank stays None;
    any other value, and a percent that is not a number (already text), is returned unchanged.
    `field_or_type` is an EntityField-like object (`type_name`) or the type name itself."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}")
    kind = field_or_type if isinstance(field_or_type, str) else getattr(field_or_type, "type_name", None)
    if kind != "percent" or value is None or isinstance(value, bool) or not isinstance(value, (Decimal, int, float)):
        return value
    d = value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    if not d.is_finite():
        return value
    points = percent_points(d)
    return points + "%" if target == "text" else points


def percent_fields(fields: Any) -> tuple[str, ...]:
    """The names of the percent fields among `fields` (EntityField-like objects): what a door
    writes with `write_value`, found once per entity rather than once per value."""
    return tuple(f.name for f in fields if getattr(f, "type_name", None) == "percent")


def write_record(percents: tuple[str, ...] | list[str], record: dict, *, target: str = "json") -> dict:
    """`record` (field → runtime value) with its `percents` fields written as points (a new dict;
    other keys as they are)."""
    if not percents:
        return record
    out = dict(record)
    for name in percents:
        if name in out:
            out[name] = write_value("percent", out[name], target=target)
    return out


__all__ = ["TARGETS", "percent_fields", "percent_points", "write_record", "write_value"]
