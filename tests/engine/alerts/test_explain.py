"""engine/alerts/explain: every grade traced, the evidence, and how far the others are."""
from __future__ import annotations

from decimal import Decimal as D
from types import MappingProxyType

from dsl.diagnostics import Diagnostics
from dsl.expr import compile_expression
from dsl.expr.types import MONEY, PERCENT, FieldInfo, TypeEnv
from dsl.ir import Label, Metadata
from dsl.kinds.alert_rule import AlertRule, Evidence, Grade
from dsl.source import Span
from engine.alerts.explain import explain

ENV = TypeEnv({"firm": {"usage": FieldInfo(PERCENT), "limit": FieldInfo(MONEY)}})
SPAN = Span("r.yaml", 1, 1)


def _expr(text):
    diags = Diagnostics()
    e = compile_expression(text, span=SPAN, scope=ENV.fields("firm"), env=ENV, diags=diags)
    assert e is not None, diags
    return e


def _rule():
    meta = Metadata("AlertRule", "usage", Label(), None, None, SPAN, "r.yaml")
    grades = (Grade("yellow", _expr("limit > 0 and usage >= 85%"), SPAN), Grade("red", _expr("usage > 100%"), SPAN))
    evidence = (Evidence(Label("使用率", "Usage"), _expr("usage"), SPAN),)
    return AlertRule(meta, "firm", "financial", (), (), grades, Label(), evidence, MappingProxyType({}), True, None,
                     None, ())


def test_the_grade_that_holds_and_how_far_the_next_is():
    exp = explain(_rule(), {"usage": D("0.9"), "limit": D("1000")})
    assert exp.finding.grade == "yellow"
    red, yellow = exp.grades
    assert (red.grade, red.holds, yellow.grade, yellow.holds) == ("red", False, "yellow", True)
    [near] = red.near
    assert (near.left, near.op, near.value, near.threshold, near.gap) == ("usage", ">", D("0.9"), D("1.00"), D("0.10"))
    assert near.type == "percent" and yellow.near == ()
    assert exp.evidence[0][1] == D("0.9") and exp.evidence_types == ("percent",)


def test_a_null_is_neither_held_nor_missed():
    exp = explain(_rule(), {"usage": None, "limit": D("1000")})
    assert exp.finding.grade is None
    assert [g.holds for g in exp.grades] == [None, None]
    assert all(g.near == () for g in exp.grades)
