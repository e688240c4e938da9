"""A rule's alert on a related record (`roll_up: {to: group}`): the group's grade from its
members' open alerts under the rule — the worst of them (`same`), or the worst softened one step
(`worst_minus_one`, the default: a red member makes the group orange, a yellow member alone does
not reach the group). The finding's evidence says how many members stand at each grade and which
are worst, so the group's alert reads as the sum of its members."""
from __future__ import annotations

from typing import Any, Iterable

from dsl.ir import Label
from engine.alerts.evaluate import Finding
from engine.alerts.lifecycle import GRADES, rank

MEMBERS = Label("成员预警", "Members' alerts")
WORST = Label("最严重的成员", "Worst members")
SHOWN = 5


def rolled_grade(policy: str, grades: Iterable[str]) -> str | None:
    """The group's grade for its members' open `grades` under `policy` (None: no alert)."""
    worst = max((rank(g) for g in grades if g in GRADES), default=-1)
    if worst < 0:
        return None
    if policy == "same":
        return GRADES[worst]
    return GRADES[worst - 1] if worst > 0 else None


def roll_up(rule: Any, members: Iterable[tuple[str, str]]) -> Finding:
    """The group's finding from `members` — (member's name or key, its open alert's grade)."""
    members = list(members)
    grade = rolled_grade(rule.roll_up.grade if rule.roll_up is not None else "worst_minus_one",
                         [g for _, g in members])
    if grade is None:
        return Finding(None)
    counts = {g: sum(1 for _, m in members if m == g) for g in reversed(GRADES)}
    top = max(rank(g) for _, g in members)
    worst = sorted(name for name, g in members if rank(g) == top)
    shown = "、".join(worst[:SHOWN]) + (f" …(+{len(worst) - SHOWN})" if len(worst) > SHOWN else "")
    return Finding(grade, ((MEMBERS, {g: n for g, n in counts.items() if n}), (WORST, shown)))
