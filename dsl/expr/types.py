"""Types of the expression language and of entity fields.

One set of types serves both: an entity field declared `type: money` has the expression type
MONEY, a `ref(group)` field has `RecordType("group")`, a collection has `ListType(...)`.
Runtime values (the contract every caller of a compiled expression keeps):

| type      | Python value                        |
|-----------|-------------------------------------|
| number    | int or decimal.Decimal              |
| integer   | int                                 |
| money     | decimal.Decimal (in yuan)           |
| percent   | decimal.Decimal (a fraction: 70% is Decimal('0.70')) |
| string    | str                                 |
| bool      | bool                                |
| date      | datetime.date                       |
| datetime  | datetime.datetime                   |
| duration  | datetime.timedelta                  |
| enum      | str (one of the declared values)    |
| record(X) | a Mapping[str, value] of X's fields |
| list(T)   | a Sequence of T                     |
Any value may be None (null); see dsl/expr/README.md for the null rules.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True, slots=True)
class Type:
    """A scalar type, named."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class EnumType(Type):
    values: tuple[str, ...] = ()
    order: str | None = None        # `ascending` (the first value is the lowest) | `descending` | None: unordered

    def ranks(self) -> dict[str, int] | None:
        """Each value's place for `<` and `>` (higher is greater); None for an unordered enum."""
        if self.order is None:
            return None
        n = len(self.values)
        return {v: (i if self.order == "ascending" else n - 1 - i) for i, v in enumerate(self.values)}

    def __str__(self) -> str:
        return "enum(" + ", ".join(self.values) + ")"


@dataclass(frozen=True, slots=True)
class RecordType(Type):
    """A record of an entity (or a form); its fields are looked up in a `TypeEnv`."""

    entity: str = ""

    def __str__(self) -> str:
        return f"record({self.entity})"


@dataclass(frozen=True, slots=True)
class ListType(Type):
    element: Type = field(default_factory=lambda: ANY)

    def __str__(self) -> str:
        return f"list({self.element})"


@dataclass(frozen=True, slots=True)
class MapType(Type):
    """A mapping literal such as `{weak: 20, strong: 90}` (keys are text or numbers)."""

    key: Type = field(default_factory=lambda: ANY)
    value: Type = field(default_factory=lambda: ANY)

    def __str__(self) -> str:
        return f"map({self.key} -> {self.value})"


NUMBER = Type("number")
INTEGER = Type("integer")
MONEY = Type("money")
PERCENT = Type("percent")
STRING = Type("string")
BOOL = Type("bool")
DATE = Type("date")
DATETIME = Type("datetime")
DURATION = Type("duration")
NULL = Type("null")
ANY: Type = Type("any")
PERIOD = Type("period")  # a calendar span (`3 months`, `2 quarters`): only in literals, windows, date arithmetic

NUMERIC = frozenset({"number", "integer", "money", "percent"})

SCALARS: dict[str, Type] = {t.name: t for t in (NUMBER, INTEGER, MONEY, PERCENT, STRING, BOOL, DATE,
                                                DATETIME, DURATION)}
# Field type names authors write, mapped to expression types (text is a long string).
FIELD_TYPE_NAMES = ("string", "text", "integer", "number", "money", "percent", "bool", "date",
                    "datetime", "duration", "enum", "multi_enum", "file")


def enum(values, order: str | None = None) -> EnumType:
    return EnumType("enum", tuple(values), order)


def record(entity: str) -> RecordType:
    return RecordType("record", entity)


def list_of(element: Type) -> ListType:
    return ListType("list", element)


def map_of(key: Type, value: Type) -> MapType:
    return MapType("map", key, value)


def is_numeric(t: Type) -> bool:
    return t.name in NUMERIC


@dataclass(frozen=True)
class FieldInfo:
    """What the type checker knows of one field of a record type."""

    type: Type
    nullable: bool = True


class TypeEnv:
    """Record types by name: `fields(entity)` → {field name: FieldInfo}.

    The link step builds one from the bundle's entities and forms; tests build small ones
    by hand: `TypeEnv({"company": {"name": FieldInfo(STRING)}})`.
    `time_fields` names, per entity, the date or datetime field that windows
    (`within 24h`, `last 2 quarters of ...`) and `latest(...)` order by.
    """

    def __init__(self, records: Mapping[str, Mapping[str, FieldInfo]] | None = None,
                 time_fields: Mapping[str, str] | None = None):
        self._records: dict[str, Mapping[str, FieldInfo]] = dict(records or {})
        self._time_fields: dict[str, str] = dict(time_fields or {})

    def time_field(self, entity: str) -> str | None:
        """The field windows over `entity` records order by, or None when none is declared."""
        return self._time_fields.get(entity)

    def set_time_field(self, entity: str, field_name: str) -> None:
        self._time_fields[entity] = field_name

    def fields(self, entity: str) -> Mapping[str, FieldInfo] | None:
        return self._records.get(entity)

    def entities(self) -> list[str]:
        return sorted(self._records)

    def add(self, entity: str, fields: Mapping[str, FieldInfo]) -> None:
        self._records[entity] = fields
