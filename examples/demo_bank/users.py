"""The demo bank's people, all with the documented demo password (README: `banyan-demo-2026`),
and sensible role permissions. Demo only: `banyan serve` warns while any of them can still sign
in with this password (runtime/cli/seed.py), so never keep them on a real system.

The Shanghai branch has a holder of every role the shipped flows ask for by org unit, so a
Shanghai credit application, service request or risk disposal finds its people at the branch
(its groups G0002 and G0006 are led there, examples/demo_bank): relationship manager, credit
officer, branch head, risk manager, legal and compliance officer, group client manager and a
product manager. Roles held only at the head office (head-office credit approver) or bank-wide
(credit committee, chief risk officer) stay at the head office, where the risk and legal
departments also have a holder for the other branches. `rm_bj_01` is a Beijing relationship
manager: a second branch, for showing what one branch cannot see of another.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runtime.auth.org import OrgTree
    from runtime.auth.users import UserStore

DEMO_PASSWORD = "banyan-demo-2026"
MAIL_DOMAIN = "bank.example.cn"          # demo mail addresses: <user name>@bank.example.cn; mobiles 13800000001 …

DEMO_USERS = (
    # name, display name, org unit, is_admin, roles [(role, unit or None = the person's unit)]
    ("admin", "系统管理员", "head_office", True, [("admin", "")]),
    # the Shanghai branch
    ("rm_sh_01", "陈思远", "sh_branch", False, [("relationship_manager", None)]),
    ("co_sh", "刘敏", "sh_branch", False, [("credit_officer", None)]),
    ("head_sh", "马文涛", "sh_branch", False, [("branch_head", None)]),
    ("risk_sh", "林晓峰", "sh_branch", False, [("risk_manager", None)]),
    ("legal_sh", "许嘉宁", "sh_branch", False, [("legal_compliance", None)]),
    ("gcm_sh", "王海鹏", "sh_branch", False, [("group_client_manager", None)]),
    ("pm_sh", "杨帆", "sh_branch", False, [("product_manager", None)]),
    # another branch
    ("rm_bj_01", "段明静", "bj_branch", False, [("relationship_manager", None)]),
    # the head office
    ("ho_credit", "赵立新", "ho_credit_management_dept", False, [("head_office_credit", None)]),
    ("risk_ho", "黄静", "ho_risk_management_dept", False, [("risk_manager", None)]),
    ("legal_ho", "冯雅琴", "ho_legal_compliance_dept", False, [("legal_compliance", None)]),
    ("committee_1", "孙建国", "head_office", False, [("credit_committee", "")]),
    ("committee_2", "周慧", "head_office", False, [("credit_committee", "")]),
    ("committee_3", "吴海涛", "head_office", False, [("credit_committee", "")]),
    ("cro", "郑宏", "head_office", False, [("chief_risk_officer", "")]),
    # the board's risk committee: applications beyond a concentration limit
    ("brc_1", "钱振华", "head_office", False, [("board_risk_committee", "")]),
    ("brc_2", "蒋文清", "head_office", False, [("board_risk_committee", "")]),
    # internal audit: reads the audit log and every record, changes nothing, sees personal data masked
    ("auditor_1", "韩雪", "head_office", False, [("auditor", "")]),
    # the checker of a deploy to a protected environment (maker-checker: config_change_approval)
    ("change_1", "唐志远", "head_office", False, [("change_approver", "")]),
)

DEMO_GRANTS = {
    # an RM sees and exports their own clients' persons in the clear (KYC, 了解你的客户): personal.read/export
    "relationship_manager": {"records.write", "records.import", "personal.read", "personal.export"},
    "credit_officer": {"records.write"},
    "branch_head": {"records.write", "records.delete"},
    "head_office_credit": {"records.write", "records.import", "deployments.read"},
    "risk_manager": {"records.write", "deployments.read", "alerts.close"},
    "legal_compliance": {"records.write"},                  # litigation, enforcement, asset preservation
    "group_client_manager": {"records.write", "records.import"},
    "product_manager": set(),                               # reads only
    "chief_risk_officer": {"deployments.read", "alerts.close"},
    "board_risk_committee": set(),                          # reads only
    "auditor": {"audit.read"},                              # the audit log; records read-only, personal data masked
    "admin": {"records.write", "records.import", "records.delete", "deployments.read", "users.admin", "audit.read",
              "personal.read", "personal.export", "alerts.close"},
}


def seed_demo_users(store: UserStore, tree: OrgTree, password: str = DEMO_PASSWORD) -> list[str]:
    """Create the demo people that do not exist yet (and the role permissions); returns who was made."""
    made = []
    for number, (name, display, unit, admin, roles) in enumerate(DEMO_USERS, start=1):
        if unit not in tree.units or store.get(name) is not None:
            continue
        held = [(role, unit if where is None else where) for role, where in roles if role in tree.roles]
        store.save(name, display_name=display, org_unit=unit, email=f"{name}@{MAIL_DOMAIN}",
                   phone=f"1380000{number:04d}", password=password, is_admin=admin, roles=held, tree=tree, new=True)
        made.append(name)
    granted = store.grants()
    for role, perms in DEMO_GRANTS.items():
        if role in tree.roles and role not in granted:
            store.set_grants(role, perms)
    return made
