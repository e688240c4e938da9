"""What a new finding does to a subject's alert under a rule: open it, raise or lower its grade,
start its quiet period when the condition clears, lift it when the quiet period is over, or
nothing. One open alert per rule and subject (`suppress.while_open`, the default); a rule that
sets `while_open: false` opens a new alert on every change of grade, closing the one before.

Times are aware datetimes given by the runtime; `calendar.add(start, amount, unit)` moves a time
by a duration (engine/flow/calendar.py: business days count the bank's working days)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.alerts.evaluate import Finding

GRADES = ("yellow", "orange", "red")


@dataclass(frozen=True)
class Current:
    """The subject's open alert under the rule, as stored."""
    grade: str
    due_at: datetime | None = None
    cleared_at: datetime | None = None      # the condition stopped holding then (the quiet period runs)


@dataclass(frozen=True)
class Step:
    """`kind`: open | raise | lower | reopen (a new alert replaces the open one: `while_open: false`)
    | refresh (same grade, other evidence) | clear (the quiet period starts) | resume (the condition
    holds again during the quiet period) | lift (closed: quiet long enough, or no quiet period) |
    none. `grade`, `due_at` and `cleared_at` are the alert's after the step."""
    kind: str
    grade: str | None = None
    due_at: datetime | None = None
    cleared_at: datetime | None = None

    @property
    def changes(self) -> bool:
        return self.kind != "none"


def rank(grade: str) -> int:
    return GRADES.index(grade)


def due_at(rule: Any, grade: str, now: datetime, calendar: Any) -> datetime | None:
    """When the alert of `grade` must be answered (`respond_within`), on the bank's calendar."""
    d = rule.respond_within.get(grade)
    if d is None:
        return None
    due: datetime = calendar.add(now, d.amount, d.unit)
    return due


def lift_at(rule: Any, cleared_at: datetime, calendar: Any) -> datetime:
    d = rule.lift_after
    if d is None:
        return cleared_at
    lifted: datetime = calendar.add(cleared_at, d.amount, d.unit)
    return lifted


def decide(rule: Any, current: Current | None, finding: Finding, now: datetime, calendar: Any,
           evidence_changed: bool = False) -> Step:
    """The step `finding` (made at `now`) takes on `current` (None: no open alert)."""
    if current is None:
        if finding.grade is None:
            return Step("none")
        return Step("open", finding.grade, due_at(rule, finding.grade, now, calendar))
    if finding.grade is None:
        if current.cleared_at is None:
            if rule.lift_after is None:
                return Step("lift", current.grade, current.due_at, now)
            return Step("clear", current.grade, current.due_at, now)
        if now >= lift_at(rule, current.cleared_at, calendar):
            return Step("lift", current.grade, current.due_at, current.cleared_at)
        return Step("none", current.grade, current.due_at, current.cleared_at)
    new, old = finding.grade, current.grade
    if new != old and not rule.suppress_while_open:
        return Step("reopen", new, due_at(rule, new, now, calendar))
    if rank(new) > rank(old):                  # raised: the higher grade's (shorter) answer time, if sooner
        due = due_at(rule, new, now, calendar)
        if current.due_at is not None and (due is None or current.due_at < due):
            due = current.due_at
        return Step("raise", new, due)
    if rank(new) < rank(old):                  # lowered: the time to answer stays
        return Step("lower", new, current.due_at)
    if current.cleared_at is not None:
        return Step("resume", new, current.due_at)
    return Step("refresh" if evidence_changed else "none", new, current.due_at)
