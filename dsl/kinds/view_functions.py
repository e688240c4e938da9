"""`flatten(list of lists)`: one list of all elements, for views across a group's members
(`flatten(members.loans)` is every member's loans). Registered with the expression language."""
from __future__ import annotations

from typing import Sequence

from dsl.expr import functions
from dsl.expr.types import ListType, Type

_LISTS = functions.TypeSet("a list of lists", frozenset({"list"}))


def _flatten_type(types: Sequence[Type]) -> Type | str:
    t = types[0]
    if isinstance(t, ListType) and isinstance(t.element, ListType):
        return t.element
    if isinstance(t, ListType) and t.element.name in ("any", "null"):
        return t
    return f"`flatten` needs a list of lists (such as members.loans), not {t}"


def _flatten(lists):
    return [item for inner in lists if inner is not None for item in inner]


if functions.lookup("flatten") is None:
    functions.register("flatten", functions.Signature((_LISTS,), _flatten_type), _flatten, same_records=True,
                       doc="one list of the elements of a list of lists: flatten(members.loans)")
