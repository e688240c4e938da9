"""engine/views without a database: a view's sections over plain records — where, sort (nulls
last), paging, a timeline newest first, metrics with warn_when (106% of a limit is flagged),
withheld figures, and expressions that fail on the data."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.views import field_values, metric_results, page_of, section_rows, sort_rows
from tests.dsl.kinds.kinds_helpers import compile_with_base

VIEW = """\
apiVersion: banyan/v1
kind: View
metadata: {name: g360}
spec:
  subject: group
  sections:
    - {id: basics, type: fields, fields: [code, name, tier]}
    - id: figures
      type: metrics
      metrics:
        - {label: 授信, value: "credit", warn_when: "value > 10亿"}
        - {label: 使用率, value: "credit / 100亿", warn_when: "value >= 85%"}
        - {label: 成员, value: "count(members)"}
        - {label: 比, value: "credit / count(members, m -> m.debt_ratio > 99%)"}
    - {id: members, type: table, rows: "members", where: "overdue_days == null or overdue_days < 90",
       columns: [name, debt_ratio], sort: {by: debt_ratio, order: desc}, limit: 2}
    - {id: suits, type: timeline, rows: "flatten(members.events)", where: "kind == 'lawsuit'",
       columns: [occurred_on, amount], limit: 10}
"""


@pytest.fixture(scope="module")
def view():
    result = compile_with_base(g360=VIEW)
    assert result.ok, [d.message for d in result.diagnostics]
    return result.bundle.documents[("View", "g360")]


def member(name, ratio, overdue=None, events=()):
    return {"name": name, "debt_ratio": ratio, "overdue_days": overdue, "events": list(events)}


GROUP = {
    "code": "G1", "name": "甲集团", "tier": "core", "credit": Decimal("10600000000"),
    "members": [
        member("甲", Decimal("0.5"), events=[{"kind": "lawsuit", "occurred_on": date(2025, 1, 3), "amount": 1},
                                            {"kind": "news", "occurred_on": date(2026, 1, 1), "amount": 2}]),
        member("乙", None, events=[{"kind": "lawsuit", "occurred_on": date(2026, 5, 1), "amount": 3}]),
        member("丙", Decimal("0.9")),
        member("丁", Decimal("0.7"), overdue=120),
        member("戊", Decimal("0.2"), events=[{"kind": "lawsuit", "occurred_on": None, "amount": 4}]),
    ],
}


def test_fields_in_their_order(view):
    assert field_values(view.sections[0], GROUP) == [("code", "G1"), ("name", "甲集团"), ("tier", "core")]


def test_metrics_warn_when_their_condition_holds(view):
    credit, usage, count, ratio = metric_results(view.sections[1], GROUP)
    assert credit.value == Decimal("10600000000") and credit.warn and credit.type == "money"
    assert usage.value == Decimal("1.06") and usage.warn and usage.type == "number"     # 106% of the limit
    assert count.value == 5 and not count.warn
    assert ratio.value is None and not ratio.failed                # a division by zero is null
    broken = metric_results(view.sections[1], {**GROUP, "credit": "abc"})
    assert broken[0].value == "abc" and broken[1].failed and broken[1].value is None and not broken[1].warn
    calm = metric_results(view.sections[1], {**GROUP, "credit": Decimal("500000000")})
    assert [m.warn for m in calm] == [False, False, False, False]
    assert calm[1].value == Decimal("0.05")


def test_a_metric_over_names_the_reader_may_not_see_is_withheld(view):
    credit, usage, count, _ = metric_results(view.sections[1], GROUP, withheld={"members"})
    assert not credit.withheld and credit.value is not None
    assert count.withheld and count.value is None and not count.warn
    assert metric_results(view.sections[1], GROUP, withheld={"credit"})[1].withheld


def test_a_table_keeps_where_sorts_with_nulls_last_and_pages(view):
    first = section_rows(view.sections[2], GROUP)
    assert [r["name"] for r in first.rows] == ["丙", "甲"]
    assert (first.total, first.page, first.pages, first.limit) == (4, 1, 2, 2)      # 丁 is 120 days overdue
    second = section_rows(view.sections[2], GROUP, page=2)
    assert [r["name"] for r in second.rows] == ["戊", "乙"]                          # no ratio: last
    assert section_rows(view.sections[2], GROUP, page=99).page == 2


def test_a_timeline_is_newest_first(view):
    suits = section_rows(view.sections[3], GROUP, time_field="occurred_on")
    assert [r["amount"] for r in suits.rows] == [3, 1, 4]


def test_rows_that_cannot_be_evaluated_fail_quietly(view):
    broken = {**GROUP, "members": [{"name": "x", "debt_ratio": "not a number", "overdue_days": "n/a", "events": []}]}
    result = section_rows(view.sections[2], broken)
    assert result.failed and result.rows == [] and result.total == 0


def test_sort_rows_and_page_of():
    rows = [{"a": 2}, {"a": None}, {"a": 10}, {"a": 1}]
    assert [r["a"] for r in sort_rows(rows, "a")] == [1, 2, 10, None]
    assert [r["a"] for r in sort_rows(rows, "a", "desc")] == [10, 2, 1, None]
    assert page_of(list(range(7)), 2, 3) == ([3, 4, 5], 2, 3)
    assert page_of([], 5, 3) == ([], 1, 1)
