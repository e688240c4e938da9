"""One registry of kinds: each kind brings its JSON Schema and how to build its IR.

Building happens in two passes over all documents, so files may refer to each other in any
order: `declare` registers names and record types (an Entity's fields, a Form's fields);
`build` then turns each document into frozen IR, compiling its expressions against the full
type environment and resolving references through the `LinkContext`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from jsonschema import Draft202012Validator

from dsl.kinds.common import schema_stem

if TYPE_CHECKING:
    from dsl.link import Declarations, LinkContext
    from dsl.loader import Document


@dataclass(frozen=True)
class KindDef:
    kind: str
    schema: dict
    summary: str
    build: Callable[["Document", "LinkContext"], Any]
    declare: Callable[["Document", "Declarations"], None] | None = None
    order: int = 50  # build order: lower first (entities before the kinds that use them)
    scaffold: str = ""  # the `spec:` block `banyan new` writes; must validate clean

    @property
    def file_stem(self) -> str:
        """The schema file name: AlertRule -> alert_rule (what banyan.json's `$ref`s name)."""
        return schema_stem(self.kind)


KINDS: dict[str, KindDef] = {}
_VALIDATORS: dict[str, Draft202012Validator] = {}


def register(kind: KindDef) -> KindDef:
    if kind.kind in KINDS:
        raise ValueError(f"kind {kind.kind} registered twice")
    KINDS[kind.kind] = kind
    return kind


def validator(kind: str) -> Draft202012Validator:
    if kind not in _VALIDATORS:
        _VALIDATORS[kind] = Draft202012Validator(KINDS[kind].schema)
    return _VALIDATORS[kind]
