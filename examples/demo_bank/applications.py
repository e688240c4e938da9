"""Applications the demo leaves in flight, so that every demo person has something to do on first
sign-in: each is a start (flow, subject, initiator, form) and the steps taken since, as people
would take them (who, what, the fields they fill, their opinion). `banyan seed demo` runs them
through the flow service (runtime/cli/seed.py `seed_demo_applications`): the same checks, routes
and timeline as any request, and nothing of this is business logic of the runtime's own."""
from __future__ import annotations

from typing import Any

FLOW = "group_credit_approval"


def _form(amount: str, purpose: str, products: list[str], mode: str = "credit", term: int = 12) -> dict[str, Any]:
    return {"credit_type": "new", "amount": amount, "term_months": term, "products": products,
            "purpose": purpose, "guarantee_mode": mode}


REVIEWED = ("co_sh", "complete", {"review_opinion": "资料齐全，同意提交风险评估"}, "资料齐全")
ASSESSED = ("risk_sh", "complete", {"risk_rating": "medium", "risk_opinion": "集团经营稳定，风险可控"}, "风险可控")
BRANCH_OK = ("head_sh", "approve", {}, "同意上报")

APPLICATIONS: tuple[dict[str, Any], ...] = (
    {   # at the credit committee: committee_1..3 and the CRO (veto) each have a vote to cast
        "flow": FLOW, "subject": "G0002", "initiator": "rm_sh_01",
        "form": _form("8亿", "集团年度流动资金周转", ["working_capital"]),
        "steps": (REVIEWED, ASSESSED, BRANCH_OK),
    },
    {   # at the head office's review (3亿, under the committee's 5亿): ho_credit decides
        "flow": FLOW, "subject": "G0006", "initiator": "rm_sh_01",
        "form": _form("3亿", "成员单位设备更新项目贷款", ["fixed_asset"], term=36),
        "steps": (REVIEWED, ASSESSED, BRANCH_OK),
    },
    {   # with the branch head: head_sh approves, returns or rejects
        "flow": FLOW, "subject": "G0006", "initiator": "rm_sh_01",
        "form": _form("1.5亿", "进口原材料信用证开立", ["letter_of_credit", "trade_finance"]),
        "steps": (REVIEWED, ASSESSED),
    },
    {   # with the risk manager
        "flow": FLOW, "subject": "G0002", "initiator": "rm_sh_01",
        "form": _form("2亿", "集团票据贴现额度", ["bank_acceptance"]),
        "steps": (REVIEWED,),
    },
    {   # just submitted: the credit officer's document review
        "flow": FLOW, "subject": "G0002", "initiator": "rm_sh_01",
        "form": _form("5000万", "成员单位保函额度", ["letter_of_guarantee"]),
        "steps": (),
    },
)
