"""Input (JSON, CLI text, CSV text, spreadsheet cells, Python values) → the runtime values of
dsl/expr/types.py, one converter per field, built once per entity.

The rules are dsl/values' (the one value model every door uses); this module only keeps the
records service's entry points. A converter returns the value or raises `BadValue`
(dsl.values.BadValue: a code, the `values.*` words in zh and en). Empty text is null.
References are returned as given (a key, an id or a display name); the records service
resolves them in bulk (runtime/records/writes.py).
"""
from __future__ import annotations

from typing import Any, Callable

from dsl.values import BadValue, is_blank, value_reader

Converter = Callable[[Any], Any]

__all__ = ["BadValue", "Converter", "converter", "is_empty", "loader"]


def loader(field: Any, source: str = "json") -> Converter:
    """The converter of one EntityField with the null check built in: empty input (None, blank
    text) is None; a value already of the field's runtime type is taken as it is."""
    return value_reader(field, source=source)


def converter(field: Any, source: str = "json") -> Converter:
    """The same reader as `loader` (kept for the callers that map empty to None first)."""
    return value_reader(field, source=source)


def is_empty(v: Any) -> bool:
    return is_blank(v)
