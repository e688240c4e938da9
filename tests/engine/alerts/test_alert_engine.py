"""engine/alerts: the highest grade that holds, evidence, the conditions that could not be read,
and the lifecycle (open, raise, lower, quiet period, lift, resume, reopen) on the bank's calendar."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from engine.alerts import Current, Finding, decide, evaluate
from engine.flow.calendar import BusinessCalendar
from tests.dsl.kinds.kinds_helpers import compile_with_base
from tests.dsl.kinds.test_alert_rule import DISPOSE, RULE

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)      # a Monday
CAL = BusinessCalendar()


@pytest.fixture(scope="module")
def rule():
    result = compile_with_base(lawsuits=RULE, dispose=DISPOSE)
    assert result.ok, [d.message for d in result.diagnostics]
    return result.bundle.documents[("AlertRule", "lawsuits")]


def events(*amounts):
    return {"events": [{"kind": "lawsuit", "amount": Decimal(a), "occurred_on": date(2026, 1, 1)} for a in amounts]}


def test_the_highest_grade_that_holds_with_its_evidence(rule):
    red = evaluate(rule, events("150000000", "1"))
    assert red.grade == "red" and [v for _, v in red.evidence] == [2, Decimal("150000001")]
    assert red.evidence[1][0].zh == "金额"
    assert evaluate(rule, events("5")).grade == "yellow"
    quiet = evaluate(rule, events())
    assert quiet.grade is None and quiet.evidence == () and quiet.errors == ()


def test_a_condition_that_cannot_be_read_is_named_not_silent(rule):
    broken = evaluate(rule, {"events": [{"kind": "lawsuit", "amount": "not money", "occurred_on": None}]})
    assert ("red", "sum(events, e -> e.amount) > 1亿") in broken.errors
    assert broken.grade == "yellow"                 # the grade it could read still holds


def test_open_with_its_answer_time_on_business_days(rule):
    step = decide(rule, None, Finding("yellow"), NOW, CAL)
    assert step.kind == "open" and step.grade == "yellow"
    assert step.due_at == NOW + timedelta(days=14)            # 10 business days from a Monday
    assert decide(rule, None, Finding(None), NOW, CAL).kind == "none"


def test_raise_takes_the_sooner_time_lower_keeps_it(rule):
    opened = Current("yellow", NOW + timedelta(days=14))
    up = decide(rule, opened, Finding("red"), NOW + timedelta(days=1), CAL)
    assert up.kind == "raise" and up.grade == "red" and up.due_at == NOW + timedelta(days=3)
    down = decide(rule, Current("red", up.due_at), Finding("yellow"), NOW + timedelta(days=2), CAL)
    assert down.kind == "lower" and down.due_at == up.due_at
    same = decide(rule, Current("red", up.due_at), Finding("red"), NOW, CAL)
    assert same.kind == "none" and not same.changes
    assert decide(rule, Current("red", up.due_at), Finding("red"), NOW, CAL, evidence_changed=True).kind == "refresh"


def test_a_cleared_alert_lifts_after_its_quiet_period_and_resumes_if_it_comes_back(rule):
    opened = Current("yellow", NOW)
    cleared = decide(rule, opened, Finding(None), NOW, CAL)
    assert cleared.kind == "clear" and cleared.cleared_at == NOW
    waiting = Current("yellow", NOW, cleared_at=NOW)
    assert decide(rule, waiting, Finding(None), NOW + timedelta(days=89), CAL).kind == "none"
    lifted = decide(rule, waiting, Finding(None), datetime(2026, 6, 2, 9, 0, tzinfo=timezone.utc), CAL)
    assert lifted.kind == "lift" and lifted.cleared_at == NOW          # 3 calendar months
    back = decide(rule, waiting, Finding("yellow"), NOW + timedelta(days=5), CAL)
    assert back.kind == "resume" and back.cleared_at is None
    assert decide(rule, waiting, Finding("red"), NOW + timedelta(days=5), CAL).kind == "raise"


def test_without_a_quiet_period_an_alert_lifts_at_once(rule):
    brisk = dataclasses.replace(rule, lift_after=None)
    assert decide(brisk, Current("red"), Finding(None), NOW, CAL).kind == "lift"


def test_while_open_false_opens_a_new_alert_on_a_change_of_grade(rule):
    loud = dataclasses.replace(rule, suppress_while_open=False)
    step = decide(loud, Current("yellow", NOW), Finding("red"), NOW, CAL)
    assert step.kind == "reopen" and step.grade == "red" and step.due_at == NOW + timedelta(days=2)
    assert decide(loud, Current("red", NOW), Finding("red"), NOW, CAL).kind == "none"


def test_roll_up_grades():
    from engine.alerts import rolled_grade
    assert rolled_grade("worst_minus_one", ["yellow", "red"]) == "orange"
    assert rolled_grade("worst_minus_one", ["yellow", "yellow"]) is None         # a yellow member stays its own
    assert rolled_grade("same", ["yellow", "orange"]) == "orange"
    assert rolled_grade("same", []) is None


def test_a_groups_finding_counts_its_members_and_names_the_worst(rule):
    from engine.alerts import roll_up
    finding = roll_up(rule, [("甲", "red"), ("乙", "yellow"), ("丙", "red")])
    assert finding.grade == "orange"
    (members_label, counts), (worst_label, worst) = finding.evidence
    assert counts == {"red": 2, "yellow": 1} and worst == "丙、甲" and members_label.en == "Members' alerts"
    assert roll_up(rule, [("乙", "yellow")]).grade is None
