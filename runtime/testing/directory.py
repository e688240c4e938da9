"""Who is who inside a test case: every role has exactly one holder in every org unit, named for
both (`risk_manager@sh_branch`; a role of `scope: global` has one bank-wide holder named for the
role: `chief_risk_officer`), so a flow's route reads as the case's expected path and a
countersign of "all holders" has one signer. Nobody is out of office. The sandbox writes the
same people into the role-holder table, where alert notifications look for them."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping


class CaseDirectory:
    def __init__(self, handed: list[str], bank_wide: frozenset[str] = frozenset()):
        self.handed = handed               # every holder given out, in order (the starter is found there)
        self.bank_wide = bank_wide         # roles of `scope: global`

    def holders(self, role: str, org_unit: str | None) -> list[str]:
        name = holder(role, None if role in self.bank_wide else org_unit)
        self.handed.append(name)
        return [name]

    def supervisor(self, user: str) -> str | None:
        return f"supervisor@{unit_of(user)}" if unit_of(user) else "supervisor"

    def has_role(self, user: str, role: str) -> bool:
        return user.partition("@")[0] == role

    def deputy(self, user: str, at: datetime) -> str | None:
        return None

    def user_record(self, user: str) -> Mapping[str, Any]:
        return {"name": user, "display_name": user, "org_unit": unit_of(user)}


def holder(role: str, org_unit: str | None) -> str:
    """The test's one holder of `role` in `org_unit` (None: bank-wide)."""
    return f"{role}@{org_unit}" if org_unit else role


def unit_of(user: str) -> str | None:
    return user.partition("@")[2] or None


def global_roles(bundle: Any) -> frozenset[str]:
    return frozenset(n for (k, n), d in bundle.documents.items() if k == "Role" and d.scope == "global")


def people_of(bundle: Any) -> tuple[list[dict], list[dict]]:
    """The test's people as put_people takes them: one holder per role and org unit (bank-wide for
    a global role), and their role assignments."""
    units = sorted(n for (k, n) in bundle.documents if k == "OrgUnit")
    bank_wide = global_roles(bundle)
    users, roles = [], []
    for (kind, role), _ in sorted(bundle.documents.items()):
        if kind != "Role":
            continue
        for unit in [None] if role in bank_wide else units:
            name = holder(role, unit)
            users.append({"name": name, "display_name": name, "org_unit": unit})
            roles.append({"user": name, "role": role, "org_unit": unit})
    return users, roles


def factory(handed: list[str], bank_wide: frozenset[str] = frozenset()):
    """A DirectoryFactory for FlowService: the same directory for every transaction of a case."""
    directory = CaseDirectory(handed, bank_wide)
    return lambda conn, bundle: directory
