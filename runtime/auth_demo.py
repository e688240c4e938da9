"""The demo bank's people: one per role a credit application meets, all with the documented
demo password (README: `banyan-demo-2026`), and sensible role permissions."""
from __future__ import annotations

from .auth.org import OrgTree
from .auth_users import UserStore

DEMO_PASSWORD = "banyan-demo-2026"

DEMO_USERS = (
    # name, display name, org unit, is_admin, roles [(role, unit or None = the person's unit)]
    ("admin", "系统管理员", "head_office", True, [("admin", "")]),
    ("rm_sh_01", "陈思远", "sh_branch", False, [("relationship_manager", None)]),
    ("co_sh", "刘敏", "sh_branch", False, [("credit_officer", None)]),
    ("head_sh", "马文涛", "sh_branch", False, [("branch_head", None)]),
    ("ho_credit", "赵立新", "ho_credit_management_dept", False, [("head_office_credit", None)]),
    ("risk_ho", "黄静", "ho_risk_management_dept", False, [("risk_manager", None)]),
    ("committee_1", "孙建国", "head_office", False, [("credit_committee", "")]),
    ("committee_2", "周慧", "head_office", False, [("credit_committee", "")]),
    ("committee_3", "吴海涛", "head_office", False, [("credit_committee", "")]),
    ("cro", "郑宏", "head_office", False, [("chief_risk_officer", "")]),
)

DEMO_GRANTS = {
    "relationship_manager": {"records.write", "records.import"},
    "credit_officer": {"records.write"},
    "branch_head": {"records.write", "records.delete"},
    "head_office_credit": {"records.write", "records.import", "deployments.read"},
    "risk_manager": {"records.write", "deployments.read"},
    "chief_risk_officer": {"deployments.read"},
    "admin": {"records.write", "records.import", "records.delete", "deployments.read", "users.admin"},
}


def seed_demo_users(store: UserStore, tree: OrgTree, password: str = DEMO_PASSWORD) -> list[str]:
    """Create the demo people that do not exist yet (and the role permissions); returns who was made."""
    made = []
    for name, display, unit, admin, roles in DEMO_USERS:
        if unit not in tree.units or store.get(name) is not None:
            continue
        held = [(role, unit if where is None else where) for role, where in roles if role in tree.roles]
        store.save(name, display_name=display, org_unit=unit, password=password, is_admin=admin, roles=held,
                   tree=tree, new=True)
        made.append(name)
    granted = store.grants()
    for role, perms in DEMO_GRANTS.items():
        if role in tree.roles and role not in granted:
            store.set_grants(role, perms)
    return made
