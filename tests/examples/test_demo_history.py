"""The demo bank's 24 month-ends of loan history (examples/demo_bank/history.py): it starts the
month-end before the first, runs oldest first to today's records, and every state on the way is
one the loan rules accept (days never fall, the class is never milder than the days require);
the troubled loans fall due over many months, not at once."""
from __future__ import annotations

from datetime import date

from examples.demo_bank.credit import minimum_class
from examples.demo_bank.history import CLASSES, month_ends
from examples.demo_bank.values import AS_OF


def _replayed(bank):
    """loan → [(month-end, overdue days, class)] from the start through every step."""
    history = bank.history
    state = {ln["loan_no"]: {**{f: ln[f] for f in ("overdue_days", "classification")},
                             **history.initial["loan"].get(ln["loan_no"], {})} for ln in bank.records["loan"]}
    out = {no: [(history.start.date(), s["overdue_days"], s["classification"])] for no, s in state.items()}
    for at, entity, changes in history.steps:
        assert entity == "loan"
        for key, values in changes:
            state[key].update(values)
            out[key].append((at.date(), state[key]["overdue_days"], state[key]["classification"]))
    return out, state


def test_month_ends_run_to_today():
    ends = month_ends()
    assert len(ends) == 25 and ends[0] == date(2024, 6, 30) and ends[-1] == AS_OF
    assert ends == sorted(ends) and all((b - a).days in (28, 29, 30, 31) for a, b in zip(ends, ends[1:]))


def test_the_history_ends_at_the_records_through_states_the_rules_accept(demo_bank):
    history = demo_bank.history
    assert [at for at, _, _ in history.steps] == sorted(at for at, _, _ in history.steps)
    assert history.start < history.steps[0][0] and history.steps[-1][0].date() == AS_OF
    paths, final = _replayed(demo_bank)
    for ln in demo_bank.records["loan"]:
        assert final[ln["loan_no"]] == {"overdue_days": ln["overdue_days"], "classification": ln["classification"]}
    for no, path in paths.items():
        days = [d for _, d, _ in path]
        assert days == sorted(days), no                                      # arrears only grow
        for _, d, cls in path:
            assert CLASSES.index(cls) >= CLASSES.index(minimum_class(d)), no
    start = {no: path[0] for no, path in paths.items()}
    assert all(d == 0 and cls == "normal" for _, d, cls in start.values())   # 24 months ago nothing was overdue


def test_the_troubled_loans_fall_due_over_many_months(demo_bank):
    first_overdue = {}
    for at, _, changes in demo_bank.history.steps:
        for key, values in changes:
            if values.get("overdue_days", 0) > 0:
                first_overdue.setdefault(key, at.date().isoformat()[:7])
    months = set(first_overdue.values())
    assert len(first_overdue) >= 10 and len(months) >= 6
    assert min(months) <= "2025-06" and max(months) == "2026-06"
