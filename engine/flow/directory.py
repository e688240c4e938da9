"""Who is who: the engine expands assignee values through a `Directory` passed in, so it
never touches the user store itself.

An assignee expression gives a user record (a mapping with `name`), a user name, a
`RoleHolders(role, org_unit)` selector from `role(...)`, null, or a list of these."""
from __future__ import annotations

from typing import Any, Iterable, Mapping, Protocol

from dsl.kinds.flow.functions import RoleHolders


class Directory(Protocol):
    def holders(self, role: str, org_unit: str | None) -> list[str]:
        """User names holding `role` (within `org_unit` and the units below it, or bank-wide)."""

    def supervisor(self, user: str) -> str | None:
        """The user's direct supervisor, if any."""

    def has_role(self, user: str, role: str) -> bool:
        """Whether the user holds `role` anywhere."""


def resolve_users(value: Any, directory: Directory) -> list[str]:
    """The distinct user names an assignee value stands for, in order of first mention."""
    if type(value) is RoleHolders:          # the common case, `role(...)`: no walk needed
        found = directory.holders(value.role, value.org_unit)
        return list(found) if len(found) < 2 else list(dict.fromkeys(found))
    out: dict[str, None] = {}
    _collect(value, directory, out)
    return list(out)


def _collect(value: Any, directory: Directory, out: dict[str, None]) -> None:
    if value is None:
        return
    if isinstance(value, str):
        out[value] = None
    elif isinstance(value, RoleHolders):
        for user in directory.holders(value.role, value.org_unit):
            out[user] = None
    elif isinstance(value, Mapping):
        name = value.get("name")
        if isinstance(name, str):
            out[name] = None
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _collect(item, directory, out)


class StaticDirectory:
    """An in-memory directory from plain data, for tests, previews and benchmarks.

    roles: {role: {org_unit or None: [users]}} (None: holders without a unit);
    parents: {org_unit: parent unit}, so a role within a unit includes its sub-units;
    supervisors: {user: supervisor}."""

    def __init__(self, roles: Mapping[str, Mapping[str | None, Iterable[str]]],
                 supervisors: Mapping[str, str] | None = None, parents: Mapping[str, str] | None = None):
        self.roles = {r: {u: list(users) for u, users in units.items()} for r, units in roles.items()}
        self.supervisors = dict(supervisors or {})
        self.parents = dict(parents or {})

    def holders(self, role: str, org_unit: str | None) -> list[str]:
        units = self.roles.get(role, {})
        if org_unit is None:
            if len(units) == 1:
                for users in units.values():
                    return list(dict.fromkeys(users))
            return list(dict.fromkeys(u for users in units.values() for u in users))
        return list(dict.fromkeys(u for unit, users in units.items() if unit is not None
                                  and self._within(unit, org_unit) for u in users))

    def _within(self, unit: str | None, ancestor: str) -> bool:
        seen = set()
        while unit is not None and unit not in seen:
            if unit == ancestor:
                return True
            seen.add(unit)
            unit = self.parents.get(unit)
        return False

    def supervisor(self, user: str) -> str | None:
        return self.supervisors.get(user)

    def has_role(self, user: str, role: str) -> bool:
        return any(user in users for users in self.roles.get(role, {}).values())
