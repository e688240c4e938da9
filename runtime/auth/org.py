"""The org tree from the deployed bundle's OrgUnit documents, and what part of it a person sees.

A person sees the subtree of each unit where they sit or hold a role; a department serves the
unit above it (a head-office department sees the whole bank, a branch department its branch);
a bank-wide role (Role `scope: global`) or the admin flag sees everything. How records sit in
the tree, and what follows for reading and writing them, is runtime/auth/scope.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable


@dataclass(frozen=True)
class Unit:
    name: str
    type: str
    parent: str | None
    label: Any           # dsl Label


class OrgTree:
    def __init__(self, bundle: Any):
        self.units: dict[str, Unit] = {n: Unit(n, u.type, u.parent, u.meta.label)
                                       for n, u in bundle.of_kind("OrgUnit").items()}
        self.roles: dict[str, Any] = dict(bundle.of_kind("Role"))
        self.children: dict[str, list[str]] = {}
        for u in self.units.values():
            if u.parent:
                self.children.setdefault(u.parent, []).append(u.name)

    def subtree(self, unit: str) -> set[str]:
        out, todo = set(), [unit]
        while todo:
            u = todo.pop()
            if u not in out:
                out.add(u)
                todo.extend(self.children.get(u, ()))
        return out

    def served(self, unit: str) -> str:
        """The unit whose subtree a person of `unit` sees (a department serves its parent)."""
        u = self.units.get(unit)
        return u.parent if u is not None and u.type == "department" and u.parent else unit

    def scope(self, units: Iterable[str], bank_wide: bool) -> frozenset[str] | None:
        """The units a person sees; None means every unit (and records placed in none)."""
        if bank_wide:
            return None
        out: set[str] = set()
        for unit in units:
            if unit:
                top = self.served(unit)
                if self.units.get(top) is not None and self.units[top].parent is None:
                    return None
                out |= self.subtree(top)
        return frozenset(out)

    def label(self, unit: str | None, lang: str) -> str:
        u = self.units.get(unit or "")
        return (u.label.text(lang) if u is not None else "") or (unit or "")

    def ordered(self) -> list[tuple[str, int]]:
        """(unit, depth) in tree order, for pickers."""
        roots = sorted(n for n, u in self.units.items() if not u.parent)
        out: list[tuple[str, int]] = []

        def visit(name: str, depth: int) -> None:
            out.append((name, depth))
            for child in sorted(self.children.get(name, [])):
                visit(child, depth + 1)
        for r in roots:
            visit(r, 0)
        return out

    def role_allowed(self, role: str, unit: str) -> str | None:
        """Why `role` cannot be held in `unit` (None when it can)."""
        r = self.roles.get(role)
        if r is None:
            return f"no role `{role}` is deployed"
        if r.scope == "global":
            return None
        u = self.units.get(unit)
        if u is None:
            return f"no org unit `{unit}`"
        if r.org_levels and u.type not in r.org_levels:
            return f"`{role}` is held in a {' or '.join(r.org_levels)}, not in a {u.type}"
        return None

