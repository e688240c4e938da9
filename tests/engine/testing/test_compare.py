"""engine/testing: what a case expected against what its run left."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from dsl.compiler import compile_path
from dsl.source import Span
from engine.flow.svg import walked
from engine.testing.compare import (
    REJECTED,
    SeenAlert,
    branches_of,
    compare_alerts,
    compare_flow,
    coverage_of,
    edges_taken,
    flow_path,
)

CASE = Span("t.yaml", 10, 7)
CONFIGS = Path(__file__).resolve().parents[3] / "configs"


@dataclass(frozen=True)
class Expect:
    rule: str
    grade: str
    span: Span = Span("t.yaml", 20, 11)
    on: str | None = None


def _seen(*items: tuple[str, str]) -> list[SeenAlert]:
    return [SeenAlert(r, g, "company", "9131") for r, g in items]


def test_the_expected_alert_in_its_grade_passes():
    assert compare_alerts([Expect("overdue", "orange")], _seen(("overdue", "orange")), CASE) == []


def test_a_wrong_grade_is_shown_at_the_expectations_line():
    [d] = compare_alerts([Expect("overdue", "red")], _seen(("overdue", "orange")), CASE)
    assert (d.expected, d.got, d.span.line) == ("overdue red", "overdue orange on company/9131", 20)


def test_missing_unexpected_and_none():
    diffs = compare_alerts([Expect("overdue", "red"), Expect("listed", "none")],
                           _seen(("listed", "red"), ("cash_flow", "yellow")), CASE)
    assert [(d.expected, d.got, d.span.line) for d in diffs] == [
        ("overdue red", "overdue: no alert", 20),
        ("listed: no alert", "listed red on company/9131", 20),
        ("no such alert (the case's list names every alert it expects)", "cash_flow yellow on company/9131", 10)]
    assert compare_alerts([], [], CASE) == []
    assert len(compare_alerts([], _seen(("x", "red")), CASE)) == 1


def test_on_names_the_record():
    seen = [SeenAlert("limit", "red", "group", "G0001"), SeenAlert("limit", "yellow", "company", "9131")]
    assert compare_alerts([Expect("limit", "red", on="group/G0001"), Expect("limit", "yellow")], seen, CASE) == []
    [d] = compare_alerts([Expect("limit", "orange", on="group/G0001"), Expect("limit", "yellow")], seen, CASE)
    assert (d.expected, d.got) == ("limit orange on group/G0001", "limit red on group/G0001")
    [d] = compare_alerts([Expect("limit", "none", on="group/G0002"), Expect("limit", "red", on="group/G0001")],
                         seen, CASE)
    assert d.got == "limit yellow on company/9131" and d.span == CASE     # nobody expected it
    [d] = compare_alerts([Expect("limit", "red", on="group/G0009")], [], CASE)
    assert d.got == "limit: no alert on group/G0009"


def test_a_roll_up_is_checked_where_named():
    seen = [SeenAlert("overdue", "red", "company", "9131"), SeenAlert("overdue", "orange", "group", "G1", True)]
    assert compare_alerts([Expect("overdue", "red")], seen, CASE) == []
    [d] = compare_alerts([Expect("overdue", "red"), Expect("overdue", "red", on="group/G1")], seen, CASE)
    assert (d.expected, d.got) == ("overdue red on group/G1", "overdue orange on group/G1")


def test_flow_comparison():
    assert compare_flow(["a", "b"], "approved", ["a", "b"], "approved", "finished", CASE) == []
    path, outcome = compare_flow(["a", "b"], "approved", ["a"], None, "waiting", CASE)
    assert (path.expected, path.got) == ("a → b", "a")
    assert (outcome.expected, outcome.got) == ("approved", "not finished (waiting)")


def test_path_branches_and_coverage_of_the_shipped_credit_approval(tmp_path):
    shutil.copytree(CONFIGS, tmp_path / "configs", ignore=shutil.ignore_patterns("tests"))
    bundle = compile_path(str(tmp_path / "configs")).bundle
    flow = bundle.documents[("Flow", "group_credit_approval")]
    ways = branches_of(flow)
    route = [b for a, b in ways if a == "route"]
    assert len(route) >= 2 and "committee" in route          # the gateway's branches
    assert ("branch_approval", REJECTED) in ways or any(a == "branch_approval" for a, _ in ways)
    events = [{"kind": "started", "node": None}, {"kind": "step_opened", "node": "document_review"},
              {"kind": "step_passed", "node": "document_review"}, {"kind": "step_opened", "node": "risk_assessment"},
              {"kind": "step_rejected", "node": "risk_assessment"},
              {"kind": "finished", "node": None, "data": {"outcome": "rejected"}}]
    assert flow_path(flow, events) == ["document_review", "risk_assessment"]
    parallel = [("step_opened", "a"), ("step_opened", "b"), ("task_cancelled", "a"), ("step_passed", "b"),
                ("arrived", "j"), ("step_passed", "a"), ("joined", "j"), ("step_opened", "a"), ("step_passed", "a")]

    class F:
        nodes = [type("N", (), {"id": n})() for n in "abj"]
    assert flow_path(F, [{"kind": k, "node": n} for k, n in parallel]) == ["a", "b", "j", "a"]
    rules = [d for (k, _), d in bundle.documents.items() if k == "AlertRule"]
    taken = {("group_credit_approval", a, b) for a, b in edges_taken(flow, walked(flow, events))}
    cov = coverage_of(rules, [flow], {("loan_overdue", "red")}, set(), taken)
    grades = cov.summary()["grades"]
    assert grades[0] == 1 and grades[1] == sum(len(r.grades) for r in rules)
    assert "loan_overdue red" not in cov.missing()["grades"] and "loan_overdue yellow" in cov.missing()["grades"]
