"""engine/alerts/backtest: month-ends of a span, and what differs between two rules' grades."""
from __future__ import annotations

from datetime import date

import pytest

from engine.alerts.backtest import SpanError, differences, month_ends, rolled_up, tally


def test_month_ends_of_a_span():
    ends = month_ends("2025-11", "2026-02")
    assert ends == [date(2025, 11, 30), date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28)]
    assert len(month_ends("2025-01", "2026-09")) == 21


@pytest.mark.parametrize("start, end, words", [("2025-13", "2026-01", "not a month"), ("2025/01", "2026-01", "2025-01"),
                                               ("2026-03", "2026-01", "after"), ("2000-01", "2019-12", "120")])
def test_a_span_that_is_not_one_says_so(start, end, words):
    with pytest.raises(SpanError) as refused:
        month_ends(start, end)
    assert words in str(refused.value)


def test_differences_name_each_kind():
    m = date(2026, 1, 31)
    got = differences(m, "r", {"a": None, "b": "red", "c": "yellow", "d": "orange"},
                      {"a": "orange", "b": None, "c": "red", "d": "orange", "e": None},
                      {"a": ("甲", "sh_branch")})
    assert [(c.key, c.kind, c.grade) for c in got] == [("a", "opens", "orange"), ("b", "disappears", "red"),
                                                        ("c", "raised", "red")]
    assert got[0].to_dict() == {"month": "2026-01", "rule": "r", "entity": "", "roll_up": False, "subject": "a",
                                "name": "甲", "branch": "sh_branch", "kind": "opens", "deployed": None,
                                "candidate": "orange"}
    assert tally(got)[("2026-01", "opens", "orange", "sh_branch")] == 1
    up = differences(m, "r", {"G1": "yellow"}, {"G1": "orange"}, {}, "group", roll_up=True)
    assert [(c.entity, c.roll_up, c.kind) for c in up] == [("group", True, "raised")]


def test_a_parent_is_graded_from_its_members_grades_then():
    parents = {"a": 1, "b": 1, "c": 2, "d": None, "e": 3}
    grades = {"a": "yellow", "b": "red", "c": "yellow", "d": "red", "e": None}
    assert rolled_up(parents, grades, "same") == {1: "red", 2: "yellow"}          # d has no parent, e no grade
    assert rolled_up(parents, grades, "worst_minus_one") == {1: "orange"}         # a yellow alone does not reach it
