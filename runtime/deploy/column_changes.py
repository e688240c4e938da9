"""How one column changes between two models: additive, or losing data, and how values carry over."""
from __future__ import annotations

from dataclasses import dataclass

from runtime.deploy.table_model import ColumnSpec

WIDEN, NARROW, RETYPE = "widen", "narrow", "retype"


@dataclass(frozen=True)
class ColumnDelta:
    type_change: str | None            # None | widen | narrow | retype
    removed_values: tuple[str, ...]    # enum values no longer allowed
    added_values: tuple[str, ...]
    unique_on: bool
    unique_off: bool
    index_changed: bool

    @property
    def changed(self) -> bool:
        return bool(self.type_change or self.removed_values or self.added_values or self.unique_on
                    or self.unique_off or self.index_changed)

    @property
    def physical(self) -> bool:
        """True when the column's type or constraints change (not only an index)."""
        return bool(self.type_change or self.removed_values or self.added_values or self.unique_on or self.unique_off)


def describe(col: ColumnSpec) -> str:
    if col.kind in ("string",):
        return f"varchar({col.length})" if col.length else "text"
    if col.kind == "enum":
        return "enum(" + ", ".join(col.values) + ")"
    if col.kind == "numeric":
        return f"numeric({col.precision}, {col.scale})" if col.precision else "numeric"
    if col.kind == "ref":
        return f"ref({col.ref})"
    return col.kind


def _length_cmp(old: int | None, new: int | None) -> str | None:
    if old == new:
        return None
    return WIDEN if new is None or (old is not None and new > old) else NARROW


def _numeric_cmp(old: ColumnSpec, new: ColumnSpec) -> str | None:
    if (old.precision, old.scale) == (new.precision, new.scale):
        return None
    if new.precision is None:
        return WIDEN
    if old.precision is None:
        return NARROW
    whole_ok = new.precision - (new.scale or 0) >= old.precision - (old.scale or 0)
    return WIDEN if whole_ok and (new.scale or 0) >= (old.scale or 0) else NARROW


def type_change(old: ColumnSpec, new: ColumnSpec) -> str | None:
    if old.ref != new.ref:
        return RETYPE
    if old.kind == new.kind:
        if old.kind in ("string", "enum"):
            return _length_cmp(old.length, new.length)
        if old.kind == "numeric":
            return _numeric_cmp(old, new)
        return None
    if {old.kind, new.kind} <= {"string", "enum"}:
        length = _length_cmp(old.length, new.length)
        if old.kind == "enum":
            return NARROW if length == NARROW else WIDEN
        return NARROW                                   # free text → a closed list of values
    if (old.kind, new.kind) == ("integer", "numeric"):
        whole = None if new.precision is None else new.precision - (new.scale or 0)
        return WIDEN if whole is None or whole >= 19 else NARROW
    if (old.kind, new.kind) == ("numeric", "integer"):
        return NARROW
    return RETYPE


def compare(old: ColumnSpec, new: ColumnSpec) -> ColumnDelta:
    removed = tuple(v for v in old.values if v not in new.values) if new.kind == "enum" and old.kind == "enum" else ()
    added = tuple(v for v in new.values if v not in old.values) if new.kind == "enum" and old.kind == "enum" else ()
    return ColumnDelta(type_change(old, new), removed, added, new.unique and not old.unique,
                       old.unique and not new.unique, (old.index, old.unique) != (new.index, new.unique))


def carry_expression(old: ColumnSpec, new: ColumnSpec, quoted: str, dialect: str) -> str | None:
    """SQL that turns the old column's value into the new one; None when the values cannot carry over."""
    delta = compare(old, new)
    if delta.type_change == RETYPE:
        return None
    expr = quoted
    if new.kind == "enum" and (old.kind != "enum" or delta.removed_values):
        kept = ", ".join("'" + v.replace("'", "''") + "'" for v in new.values)
        expr = f"CASE WHEN {expr} IN ({kept}) THEN {expr} END"
    if new.kind in ("string", "enum") and new.length and (old.length is None or old.length > new.length):
        expr = f"substr({expr}, 1, {new.length})" if dialect == "sqlite" else f"left({expr}, {new.length})"
    if new.kind == "numeric" and new.scale is not None and (old.kind != "numeric" or (old.scale or 99) > new.scale):
        expr = f"round({expr}, {new.scale})"
    if new.kind == "integer" and old.kind == "numeric":
        expr = f"round({expr})"
    return expr
