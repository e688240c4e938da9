"""What a candidate rule would have done differently from the deployed one, month by month: the
month-ends of a span, and the subjects whose grade differs (opens, disappears, raised, lowered),
counted by month, kind, grade and branch — the rule's subjects, and the parents its roll-up
grades from their members' grades at that month-end. Pure: the runtime evaluates both at each
month-end."""
from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping

from dsl.errors import BanyanError
from engine.alerts.rollup import rolled_grade

RANK = {None: 0, "yellow": 1, "orange": 2, "red": 3}


class SpanError(BanyanError, ValueError):
    """A month span that is not one: the words say what to write."""
    code, status, namespace = "invalid_span", 422, "alerts"


def month(text: str) -> tuple[int, int]:
    try:
        year, mon = (int(p) for p in text.split("-"))
    except ValueError:
        raise SpanError(f"`{text}` is not a month; write it as 2025-01") from None
    if not 1 <= mon <= 12 or not 1900 <= year <= 9999:
        raise SpanError(f"`{text}` is not a month; write it as 2025-01")
    return year, mon


def month_ends(start: str, end: str) -> list[date]:
    """The last day of every month from `start` to `end` (YYYY-MM, both included)."""
    (y, m), last = month(start), month(end)
    if (y, m) > last:
        raise SpanError(f"--from {start} is after --to {end}")
    out = []
    while (y, m) <= last:
        out.append(date(y, m, calendar.monthrange(y, m)[1]))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    if len(out) > 120:
        raise SpanError(f"{len(out)} months is more than a backtest runs (at most 120)")
    return out


@dataclass(frozen=True)
class Change:
    month: date
    rule: str
    key: str
    name: str
    branch: str
    deployed: str | None             # the deployed rule's grade then (None: no alert)
    candidate: str | None            # the candidate's
    entity: str = ""                 # the subject's entity (the rule's scope, or where it rolls up to)
    roll_up: bool = False            # a roll-up: the grade the members' grades give their parent

    @property
    def kind(self) -> str:
        if self.deployed is None:
            return "opens"
        if self.candidate is None:
            return "disappears"
        return "raised" if RANK[self.candidate] > RANK[self.deployed] else "lowered"

    @property
    def grade(self) -> str:
        """The grade the change is about: the candidate's, or the one that disappears."""
        return self.candidate or self.deployed or ""

    def to_dict(self) -> dict[str, object]:
        return {"month": self.month.isoformat()[:7], "rule": self.rule, "entity": self.entity, "roll_up": self.roll_up,
                "subject": self.key, "name": self.name, "branch": self.branch, "kind": self.kind,
                "deployed": self.deployed, "candidate": self.candidate}


def differences(month_end: date, rule: str, deployed: Mapping[str, str | None], candidate: Mapping[str, str | None],
                about: Mapping[str, tuple[str, str]], entity: str = "", roll_up: bool = False) -> list[Change]:
    """The subjects (by key) whose grade under the two rules differs at `month_end`; `about`:
    key → (name, branch)."""
    out = []
    for key in sorted(set(deployed) | set(candidate)):
        a, b = deployed.get(key), candidate.get(key)
        if a != b:
            name, branch = about.get(key, ("", ""))
            out.append(Change(month_end, rule, key, name, branch, a, b, entity, roll_up))
    return out


def rolled_up(parents: Mapping[str, object], grades: Mapping[str, str | None], policy: str) -> dict[object, str]:
    """Each parent's grade from its members' grades at a month-end (`parents`: member key → its
    parent then, None for none), under the rule's roll-up `policy` (engine/alerts/rollup.py);
    parents without one are left out."""
    members: dict[object, list[str]] = {}
    for key, grade in grades.items():
        parent = parents.get(key)
        if grade is not None and parent is not None:
            members.setdefault(parent, []).append(grade)
    out = {}
    for parent, held in members.items():
        grade = rolled_grade(policy, held)
        if grade is not None:
            out[parent] = grade
    return out


def tally(changes: Iterable[Change]) -> Counter[tuple[str, str, str, str]]:
    """How many changes per (month, kind, grade, branch)."""
    return Counter((c.month.isoformat()[:7], c.kind, c.grade, c.branch) for c in changes)
