"""AlertRule: grades in order, triggers, evidence, roll-up, and actions that name real
roles, channels, templates and flows."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from .kinds_helpers import compile_with_base, found

RULE = """\
apiVersion: banyan/v1
kind: AlertRule
metadata: {name: lawsuits}
spec:
  scope: company
  category: external
  on: [events.created, {schedule: daily 06:00}]
  grades:
    yellow: "count(events, e -> e.kind == 'lawsuit') >= 1"
    red: "sum(events, e -> e.amount) > 1亿"
  message: {zh: '{{ subject.name }} 涉诉', en: 'Lawsuits against {{ subject.name }}'}
  evidence: ["count(events)", {label: {zh: 金额}, value: "sum(events, e -> e.amount)"}]
  respond_within: {yellow: 10 business days, red: 2 business days}
  suppress: {lift_after: 3 months}
  roll_up: {to: group}
  actions:
    - notify: {roles: [risk_manager], channels: [in_app], template: alert_default}
    - when: "grade == 'red'"
      start_flow: dispose
"""

DISPOSE = """\
apiVersion: banyan/v1
kind: Flow
metadata: {name: dispose}
spec:
  subject: company
  start: {}
  nodes:
    - {id: act, type: task, assignees: "role('risk_manager', subject.branch)"}
    - {id: done, type: end}
"""


def test_a_rule_compiles_with_its_grades_in_order():
    result = compile_with_base(lawsuits=RULE, dispose=DISPOSE)
    assert result.ok, [d.message for d in result.diagnostics]
    rule = result.bundle.documents[("AlertRule", "lawsuits")]
    assert rule.grade_names == ("yellow", "red")
    events = [{"kind": "lawsuit", "amount": Decimal("200000000"), "occurred_on": date(2026, 1, 1)}]
    assert rule.grades[0].when.test({"events": events}) and rule.grades[1].when.test({"events": events})
    assert rule.events == ("events.created",) and rule.schedules[0].hour == 6
    assert rule.roll_up.entity == "group" and rule.roll_up.grade == "worst_minus_one"
    assert rule.suppress_while_open and rule.lift_after.unit == "months"
    assert rule.respond_within["red"].business
    notify, start = rule.actions
    assert notify.effect.roles == ("risk_manager",) and start.effect.flow == "dispose"
    assert start.when.test({"grade": "red"}) and not start.when.test({"grade": "yellow"})


def test_grades_out_of_order():
    text = RULE.replace('    yellow: "count(events, e -> e.kind == \'lawsuit\') >= 1"\n', "") \
               .replace('    red: "sum(events, e -> e.amount) > 1亿"\n',
                        '    red: "sum(events, e -> e.amount) > 1亿"\n    orange: "count(events) > 2"\n')
    codes = found(compile_with_base(lawsuits=text, dispose=DISPOSE), "lawsuits.yaml")
    assert ("BNY604", 10, 5) in codes        # orange after red
    assert ("BNY604", 13, 20) in codes       # respond_within names a grade the rule lacks


def test_actions_name_real_flows_roles_channels_and_templates():
    text = RULE.replace("start_flow: dispose", "start_flow: dispse").replace("roles: [risk_manager]", "roles: [risk_manger]") \
               .replace("template: alert_default", "template: alert_defalt")
    codes = found(compile_with_base(lawsuits=text, dispose=DISPOSE), "lawsuits.yaml")
    assert codes == {("BNY401", 19, 19), ("BNY401", 17, 24), ("BNY409", 17, 68)}


def test_a_flow_about_another_entity_needs_a_subject():
    other = DISPOSE.replace("subject: company", "subject: group").replace("subject.branch", "subject.lead_branch")
    codes = found(compile_with_base(lawsuits=RULE, dispose=other), "lawsuits.yaml")
    assert codes == {("BNY405", 19, 19)}
    fixed = RULE.replace("start_flow: dispose", "start_flow: {flow: dispose, subject: \"group\"}")
    assert compile_with_base(lawsuits=fixed, dispose=other).ok


def test_roll_up_triggers_and_schedules_are_checked():
    text = RULE.replace("roll_up: {to: group}", "roll_up: {to: name}").replace("events.created", "events.creatd") \
               .replace("daily 06:00", "daily 25:00")
    codes = found(compile_with_base(lawsuits=text, dispose=DISPOSE), "lawsuits.yaml")
    assert {c for c, _, _ in codes} == {"BNY405", "BNY401", "BNY208"}


def test_conditions_are_bool_over_the_scope():
    text = RULE.replace('"sum(events, e -> e.amount) > 1亿"', '"sum(events, e -> e.amount)"') \
               .replace("{{ subject.name }} 涉诉", "{{ subjec.name }} 涉诉")
    codes = {c for c, _, _ in found(compile_with_base(lawsuits=text, dispose=DISPOSE), "lawsuits.yaml")}
    assert codes == {"BNY311", "BNY302"} or codes == {"BNY306", "BNY302"}


HEARS = """\
apiVersion: banyan/v1
kind: AlertRule
metadata: {name: hears}
spec:
  scope: company
  category: financial
  on: [events.created]
  grades:
    yellow: "count(events) >= 1 and overdue_days > 30"
    red: "debt_ratio > 90%"
  message: {zh: '{{ subject.name }}', en: '{{ subject.name }}'}
  evidence: ["overdue_days"]
  actions:
    - notify: {roles: [risk_manager], channels: [in_app], template: alert_default}
"""


def test_a_rule_that_does_not_hear_a_field_it_reads_is_warned():
    """`on: [events.created]` hears the events, not the company's own fields: both are named,
    as warnings (the rule still compiles), and a `schedule:` or `subject.updated` quiets them."""
    result = compile_with_base(hears=HEARS)
    assert result.ok
    warned = [d for d in result.diagnostics if d.code == "BNY606"]
    assert [d.severity for d in warned] == ["warning", "warning"]
    assert "`overdue_days`" in warned[0].message and "subject.updated" in warned[0].hint
    assert "`debt_ratio`" in warned[1].message
    for fixed in (HEARS.replace("on: [events.created]", "on: [events.created, subject.updated]"),
                  HEARS.replace("on: [events.created]", "on: [events.created, {schedule: daily 06:00}]")):
        assert not [d for d in compile_with_base(hears=fixed).diagnostics if d.code == "BNY606"]
    unheard = HEARS.replace("on: [events.created]", "on: [subject.updated]")
    (d,) = [d for d in compile_with_base(hears=unheard).diagnostics if d.code == "BNY606"]
    assert "`events`" in d.message and "events.updated" in d.hint


SHADOW = """\
apiVersion: banyan/v1
kind: AlertRule
metadata: {name: shadow}
spec:
  scope: company
  category: financial
  on: [{schedule: daily 06:00}]
  grades:
    yellow: "debt_ratio > 80%"
    orange: "debt_ratio > 70%"
    red: "debt_ratio > 90% and overdue_days > 90"
  message: {zh: '{{ subject.name }}', en: '{{ subject.name }}'}
  evidence: ["debt_ratio"]
  actions:
    - notify: {roles: [risk_manager], channels: [in_app], template: alert_default}
"""


def test_a_yellow_stricter_than_its_orange_is_warned():
    """Yellow `> 80%` holds only where orange `> 70%` holds too, so it is never raised: a warning at
    the yellow line with a value that shows it; written the right way round, nothing is said."""
    result = compile_with_base(shadow=SHADOW)
    assert result.ok
    (d,) = [d for d in result.diagnostics if d.code == "BNY607"]
    assert d.severity == "warning" and "grade `yellow` is never raised" in d.message
    assert "`debt_ratio` is between 80% and 90%" in d.message and d.span.line == 9
    fixed = SHADOW.replace('yellow: "debt_ratio > 80%"', 'yellow: "debt_ratio > 60%"')
    assert not [d for d in compile_with_base(shadow=fixed).diagnostics if d.code == "BNY607"]
    # an orange that needs what red needs, and more, is never raised either
    inner = SHADOW.replace('orange: "debt_ratio > 70%"', 'orange: "debt_ratio > 95% and overdue_days > 120"') \
                  .replace('yellow: "debt_ratio > 80%"', 'yellow: "debt_ratio > 60%"')
    (d,) = [d for d in compile_with_base(shadow=inner).diagnostics if d.code == "BNY607"]
    assert "grade `orange` is never raised" in d.message
    # a condition the analysis cannot decide (a collection read) is left alone
    opaque = SHADOW.replace('yellow: "debt_ratio > 80%"', 'yellow: "any(loans, l -> l.overdue_days > 1)"')
    assert not [d for d in compile_with_base(shadow=opaque).diagnostics if d.code == "BNY607"]
