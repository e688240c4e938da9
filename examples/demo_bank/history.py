"""Twenty-four month-ends of loan history, so that a backtest over the demo bank sees its planted
deteriorations arrive over time (issue 14) instead of all at once on the last day.

A loan overdue d days at AS_OF fell due d days before it (credit.py sets its maturity so): at a
month-end M it was overdue max(0, d - days from M to AS_OF) days, classed at the regulatory
minimum for those days (credit.minimum_class). A loan at a troubled firm classed special mention
without being overdue was moved there at a month-end in the year before AS_OF. Every other loan
never changed. The composite firms' loans (45 to 400 days at AS_OF) thus fall due between
2025-05 and 2026-05 and cross 1, 31 and 90 days month by month.

`build_history(world)` gives the bank as it stood at the start (the month-end 24 months before
AS_OF: `initial`, the fields that differ from today's records) and, for each later month-end,
the loans that changed then (`steps`, oldest first; the last brings every loan to today's
record). `banyan seed demo` loads the records as they stood at the start with the audit clock at
that day, then writes each step through the records service with the clock at its month-end,
18:00 on the bank's clock — so the audit log holds the history the backtest reads
(runtime/records/history.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dsl.bank_time import bank_timezone

from .credit import minimum_class
from .values import AS_OF
from .world import World

MONTHS = 24
WRITTEN_AT = time(18, 0)            # a month-end's batch, on the bank's clock
CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")
FIELDS = ("overdue_days", "classification")


@dataclass(frozen=True)
class History:
    """`initial`: entity → key → the fields whose value at `start` differs from today's record;
    `steps`: (moment, entity, [(key, changed fields)]) in the order they happened."""
    start: datetime
    initial: dict[str, dict[str, dict]]
    steps: list[tuple[datetime, str, list[tuple[str, dict]]]]


def month_ends(count: int = MONTHS, last: date = AS_OF) -> list[date]:
    """The last `count` month-ends up to `last` (a month-end), oldest first, and the one before
    them first of all (the start)."""
    out = [last]
    for _ in range(count):
        first = out[-1].replace(day=1)
        out.append(first - timedelta(days=1))
    return out[::-1]


def moment(day: date) -> datetime:
    return datetime.combine(day, WRITTEN_AT, bank_timezone())


def _state(loan: dict, day: date, marked: date | None) -> dict:
    """The loan's overdue days and class at `day`."""
    days = max(0, loan["overdue_days"] - (AS_OF - day).days)
    cls = minimum_class(days)
    if marked is not None and day >= marked and CLASSES.index(loan["classification"]) > CLASSES.index(cls):
        cls = loan["classification"]
    return {"overdue_days": days, "classification": cls}


def build_history(world: World) -> History:
    rng = world.rng("history")
    ends = month_ends()
    last_year = ends[-12:]
    loans = world.records["loan"]
    marked: dict[str, date | None] = {}
    for loan in loans:
        at_minimum = CLASSES.index(loan["classification"]) <= CLASSES.index(minimum_class(loan["overdue_days"]))
        marked[loan["loan_no"]] = None if at_minimum else rng.choice(last_year)
    moving = [ln for ln in loans if ln["overdue_days"] or marked[ln["loan_no"]] is not None]
    before = {ln["loan_no"]: _state(ln, ends[0], marked[ln["loan_no"]]) for ln in moving}
    initial = {}
    for ln in moving:
        differs = {f: v for f, v in before[ln["loan_no"]].items() if v != ln[f]}
        if differs:
            initial[ln["loan_no"]] = differs
    steps = []
    for day in ends[1:]:
        changed = []
        for ln in moving:
            now = _state(ln, day, marked[ln["loan_no"]])
            diff = {f: v for f, v in now.items() if v != before[ln["loan_no"]][f]}
            if diff:
                changed.append((ln["loan_no"], diff))
                before[ln["loan_no"]] = now
        if changed:
            steps.append((moment(day), "loan", changed))
    for ln in moving:                  # the history ends where the records are
        if before[ln["loan_no"]] != {f: ln[f] for f in FIELDS}:
            raise ValueError(f"the history of loan {ln['loan_no']} does not end at its record")
    return History(moment(ends[0]), {"loan": initial}, steps)
