"""TestSuite: every name a case uses exists, values are typed, and no case expects nothing."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from .kinds_helpers import compile_with_base, found
from .test_alert_rule import DISPOSE, RULE

SUITE = """\
apiVersion: banyan/v1
kind: TestSuite
metadata: {name: suite}
spec:
  cases:
    - name: a big lawsuit is red
      now: '2026-03-31'
      given:
        company: {code: C1, name: 甲公司, debt_ratio: 75%}
        events: [{kind: lawsuit, occurred_on: 2026-03-01, amount: 2亿}]
      expect:
        alerts: [{rule: lawsuits, grade: red}]
    - name: the disposal runs to its end
      given:
        company: {code: C1}
      flow: {name: dispose, decisions: {act: complete}}
      expect:
        flow: {path: [act, done], outcome: done}
"""


def compile_suite(text: str = SUITE):
    return compile_with_base(lawsuits=RULE, dispose=DISPOSE, suite=text)


def test_a_suite_compiles_with_typed_records():
    result = compile_suite()
    assert result.ok, [d.message for d in result.diagnostics]
    first, second = result.bundle.documents[("TestSuite", "suite")].cases
    assert first.given["company"][0]["debt_ratio"] == Decimal("0.75")
    event = first.given["events"][0]
    assert event["amount"] == Decimal("200000000") and event["occurred_on"] == date(2026, 3, 1)
    assert first.alerts[0].rule == "lawsuits" and first.now == "2026-03-31"
    assert second.flow.decisions == {"act": "complete"} and second.flow_path == ("act", "done")


def test_unknown_rules_grades_flows_nodes_and_outcomes():
    text = SUITE.replace("rule: lawsuits, grade: red", "rule: lawsuit, grade: red") \
                .replace("path: [act, done], outcome: done", "path: [act, end], outcome: approved")
    result = compile_suite(text)
    assert found(result, "suite.yaml") == {("BNY605", 12, 25), ("BNY605", 18, 28), ("BNY605", 18, 43)}
    assert any("did you mean `lawsuits`" in (d.hint or "") for d in result.diagnostics)
    grade = compile_suite(SUITE.replace("grade: red", "grade: orange"))
    assert found(grade, "suite.yaml") == {("BNY605", 12, 42)}


def test_given_keys_fields_and_enum_values():
    text = SUITE.replace("events: [{kind: lawsuit", "evnts: [{kind: lawsuit").replace("name: 甲公司", "nam: 甲公司")
    codes = found(compile_suite(text), "suite.yaml")
    assert {c for c, _, _ in codes} == {"BNY605", "BNY404"}
    enum = compile_suite(SUITE.replace("kind: lawsuit", "kind: lawsiut"))
    assert {c for c, _, _ in found(enum, "suite.yaml")} == {"BNY207"}
    money = compile_suite(SUITE.replace("amount: 2亿", "amount: 2亿亿"))
    assert {c for c, _, _ in found(money, "suite.yaml")} and not money.ok


def test_a_case_must_expect_something_and_give_the_subject():
    empty = compile_suite(SUITE.replace("      expect:\n        alerts: [{rule: lawsuits, grade: red}]\n", "      expect: {}\n"))
    assert ("BNY605", 11, 7) in found(empty, "suite.yaml")
    no_company = compile_suite(SUITE.replace("        company: {code: C1}\n", "        events: []\n"))
    assert {c for c, _, _ in found(no_company, "suite.yaml")} == {"BNY605"}


def test_duplicate_case_names():
    text = SUITE.replace("the disposal runs to its end", "a big lawsuit is red")
    assert found(compile_suite(text), "suite.yaml") == {("BNY402", 13, 13)}
