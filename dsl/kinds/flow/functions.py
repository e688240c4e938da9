"""Functions that assignee expressions call, registered with the expression language.

`role('credit_officer')` and `role('credit_officer', subject.lead_branch)` name the holders of
a role, bank-wide or within an org unit. The compiler cannot know who holds a role (people
change jobs after deploy), so the value is a `RoleHolders` selector, not users: the engine
expands selectors against its user directory when it creates a task, at that moment. A
null org unit gives null (no one), so a step falls to its `if_no_assignee` rule.
The role names written in `role('…')` are checked against the bundle's Role documents when
the flow is linked (BNY401).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from dsl.expr import functions
from dsl.expr.types import STRING, list_of, record


@dataclass(frozen=True, slots=True)
class RoleHolders:
    """The people holding `role`, within `org_unit` (a record or its name) when given."""

    role: str
    org_unit: Any = None


def _role(name: str, org_unit: Any = None) -> RoleHolders:
    if isinstance(org_unit, Mapping):
        org_unit = org_unit.get("name", org_unit)
    return RoleHolders(name, org_unit)


if functions.lookup("role") is None:
    functions.register(
        "role", functions.Signature((STRING, record("org_unit")), list_of(record("user")), optional=1), _role,
        doc="the holders of a role, bank-wide or within an org unit: role('credit_officer', subject.lead_branch); "
            "the engine resolves them when it assigns a task")
