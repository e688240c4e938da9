"""BNY510, a hint: an approval's deadline written in calendar days or weeks (`1d`, `2w`, `3天`)
counts weekends and public holidays — across National Day `2d` leaves no working time at all.
Deadlines in business days (`1 business day`, `2 工作日`) count the bank's working days only.
Hours stay calendar time on purpose (`4h` means four hours) and are not flagged."""
from __future__ import annotations

from typing import Iterable

from dsl.kinds.flow.ir import ApprovalNode, Node
from dsl.link import LinkContext

CALENDAR_DAY_UNITS = {"days": 1, "weeks": 5}      # unit -> business days it most likely meant per unit


def check_calendar_days(ctx: LinkContext, nodes: Iterable[Node]) -> None:
    for node in nodes:
        if not isinstance(node, ApprovalNode):
            continue
        deadline = node.timing.deadline
        if deadline is None or deadline.unit not in CALENDAR_DAY_UNITS:
            continue
        meant = deadline.amount * CALENDAR_DAY_UNITS[deadline.unit]
        amount = int(meant) if float(meant).is_integer() else meant
        suggestion = f"{amount} business day" + ("" if amount == 1 else "s")
        ctx.diags.add("BNY510", f"the deadline `{deadline.text}` of approval `{node.id}` counts weekends and "
                                f"holidays; did you mean `{suggestion}`?", deadline.span,
                      f"write `deadline: {suggestion}` to count the bank's working days only "
                      "(or keep calendar time on purpose)", severity="warning")
