"""Tiering: weights add to 100, the table names declared tiers, `first` ends with a catch-all,
caps, and the subject's enum field that receives the tier."""
from __future__ import annotations

from .kinds_helpers import compile_with_base, found

TIERING = """\
apiVersion: banyan/v1
kind: Tiering
metadata: {name: matrix}
spec:
  subject: group
  assign_to: tier
  dimensions:
    value: {weight: 60, score: "band(credit, {0: 10, 1亿: 50, 10亿: 90})"}
    outlook: {weight: 40, score: "band(subject.outlook, {weak: 20, strong: 90})"}
  tiers:
    - name: core
      service_package: {lead_role: branch_head, team_roles: [credit_officer], review_every: 1 month, response_within: 4h}
    - {name: other}
  table:
    hit_policy: first
    rules:
      - {when: "value >= 50 and outlook >= 70", tier: core}
      - {tier: other}
  caps:
    - {when: "alert_grade == 'red'", at_most: other}
  schedule: monthly 1 06:00
  on: [alert.opened, members.updated]
"""


def test_a_tiering_compiles_and_scores():
    result = compile_with_base(matrix=TIERING)
    assert result.ok, [d.message for d in result.diagnostics]
    t = result.bundle.documents[("Tiering", "matrix")]
    value, outlook = t.dimensions
    assert value.score({"credit": 2 * 10**8}) == 50 and outlook.score({"subject": {"outlook": "strong"}}) == 90
    assert [x.name for x in t.tiers] == ["core", "other"] and t.tiers[0].rank == 0
    assert t.tiers[0].service_package.response_within.unit == "hours"
    assert t.rules[0].when.test({"value": 60, "outlook": 90}) and t.rules[1].when is None
    assert t.caps[0].when.test({"alert_grade": "red"}) and not t.caps[0].when.test({"alert_grade": None})
    assert (t.schedule.kind, t.schedule.day, t.schedule.hour) == ("monthly", "1", 6)


def test_weights_must_add_up_to_100():
    result = compile_with_base(matrix=TIERING.replace("weight: 40", "weight: 30"))
    diag = next(d for d in result.diagnostics if d.code == "BNY601")
    assert (diag.span.line, diag.span.col) == (7, 3) and "90" in diag.message


def test_unknown_tiers_and_a_missing_catch_all():
    text = TIERING.replace("tier: core}", "tier: cor}").replace("at_most: other", "at_most: others") \
                  .replace("      - {tier: other}\n", "")
    codes = found(compile_with_base(matrix=text), "matrix.yaml")
    assert ("BNY602", 17, 55) in codes and ("BNY602", 19, 47) in codes and ("BNY603", 17, 9) in codes


def test_the_tier_field_must_hold_every_tier():
    codes = found(compile_with_base(matrix=TIERING.replace("name: core", "name: strategic")), "matrix.yaml")
    assert ("BNY602", 6, 14) in codes
    wrong = found(compile_with_base(matrix=TIERING.replace("assign_to: tier", "assign_to: name")), "matrix.yaml")
    assert wrong == {("BNY405", 6, 14)}


def test_table_conditions_read_fields_by_name_and_dimensions_first():
    text = TIERING.replace('"value >= 50 and outlook >= 70"', '"credit >= 1亿 and outlook >= 70"')
    result = compile_with_base(matrix=text)
    assert result.ok, [d.message for d in result.diagnostics]
    rule = result.bundle.documents[("Tiering", "matrix")].rules[0]
    assert rule.when.test({"credit": 2 * 10**8, "outlook": 80})       # `outlook`: the dimension's score
    unknown = TIERING.replace('"value >= 50 and outlook >= 70"', '"credits >= 50"')
    assert {c for c, _, _ in found(compile_with_base(matrix=unknown), "matrix.yaml")} == {"BNY302"}


def test_weights_all_or_none_and_score_needs_them():
    none = TIERING.replace("weight: 60, ", "").replace("weight: 40, ", "")
    assert compile_with_base(matrix=none).ok
    result = compile_with_base(matrix=none.replace('"value >= 50 and outlook >= 70"', '"score >= 60"'))
    diag = next(d for d in result.diagnostics if d.code == "BNY601")
    assert "no weights" in diag.message and diag.span.line == 17
    some = found(compile_with_base(matrix=TIERING.replace("weight: 40, ", "")), "matrix.yaml")
    assert ("BNY601", 7, 3) in some


def _table(policy: str, rules: str) -> str:
    start = TIERING.index("  table:")
    end = TIERING.index("  caps:")
    return TIERING[:start] + f"  table:\n    hit_policy: {policy}\n    rules:\n{rules}" + TIERING[end:]


def test_a_gap_in_the_table_is_named():
    rules = ('      - {when: "value >= 50", tier: core}\n'
             '      - {when: "value < 40", tier: other}\n')
    result = compile_with_base(matrix=_table("first", rules))
    diag = next(d for d in result.diagnostics if d.code == "BNY603")
    assert "no case holds when `value` is 40" in diag.message and diag.span.line == 18


def test_unique_tables_may_not_overlap_and_any_tables_must_agree():
    rules = ('      - {when: "value >= 50", tier: core}\n'
             '      - {when: "value <= 50", tier: other}\n')
    result = compile_with_base(matrix=_table("unique", rules))
    diag = next(d for d in result.diagnostics if d.code == "BNY609")
    assert "rules 1 and 2 hold together when `value` is 50" in diag.message
    agreeing = ('      - {when: "value >= 50", tier: other}\n'
                '      - {when: "value <= 50", tier: other}\n')
    assert compile_with_base(matrix=_table("any", agreeing)).ok
    assert "BNY609" in {d.code for d in compile_with_base(matrix=_table("any", rules)).diagnostics}
    apart = ('      - {when: "value > 50", tier: core}\n'
             '      - {when: "value <= 50", tier: other}\n')
    assert compile_with_base(matrix=_table("unique", apart)).ok


def test_a_condition_the_analysis_cannot_read_is_named():
    rules = ('      - {when: "value > outlook", tier: core}\n'
             '      - {when: "value <= outlook", tier: other}\n')
    result = compile_with_base(matrix=_table("unique", rules))
    assert result.ok
    diag = next(d for d in result.diagnostics if d.code == "BNY610")
    assert diag.severity == "warning" and "`value > outlook`" in diag.message


def test_reserved_dimension_names_roles_and_events():
    text = TIERING.replace("    outlook: {weight: 40", "    score: {weight: 40").replace("lead_role: branch_head",
                                                                                      "lead_role: branch_heads") \
                  .replace("members.updated", "member.updated")
    codes = {c for c, _, _ in found(compile_with_base(matrix=text), "matrix.yaml")}
    assert {"BNY402", "BNY401"} <= codes


SERVICE_FLOW = """\
apiVersion: banyan/v1
kind: Flow
metadata: {name: service}
spec:
  subject: company
  start: {who: "role('credit_officer')"}
  nodes:
    - {id: route, type: branch, cases: [{when: "true", goto: answer}], default: answer}
    - {id: answer, type: task, assignees: "role('credit_officer')", deadline: 1 business day}
    - {id: done, type: end}
"""


def test_service_requests_name_a_flow_about_a_member_and_a_step_with_its_own_deadline():
    """`service_requests: {flow, step}`: the flow may be about a member (the link is its `group`);
    the step must be one a person answers and have a deadline of its own, for clients with no tier."""
    asked = TIERING + "  service_requests: {flow: service, step: answer}\n"
    result = compile_with_base(matrix=asked, service=SERVICE_FLOW)
    assert result.ok, [d.message for d in result.diagnostics]
    sr = result.bundle.documents[("Tiering", "matrix")].service_requests
    assert (sr.flow, sr.step, sr.via) == ("service", "answer", "group")
    line, text = asked.count("\n"), asked.splitlines()[-1]            # the last line: service_requests
    flow_col, step_col = text.index("service,") + 1, text.index("answer") + 1
    codes = found(compile_with_base(matrix=asked.replace("step: answer", "step: answr"), service=SERVICE_FLOW),
                  "matrix.yaml")
    assert ("BNY501", line, step_col) in codes
    codes = found(compile_with_base(matrix=asked.replace("step: answer", "step: route"), service=SERVICE_FLOW),
                  "matrix.yaml")
    assert ("BNY405", line, step_col) in codes
    result = compile_with_base(matrix=asked, service=SERVICE_FLOW.replace(", deadline: 1 business day", ""))
    (diag,) = [d for d in result.diagnostics if d.code == "BNY611"]
    assert "no deadline of its own" in diag.message and "deadline:" in diag.hint
    about_event = SERVICE_FLOW.replace("subject: company", "subject: event")
    codes = found(compile_with_base(matrix=asked, service=about_event), "matrix.yaml")
    assert ("BNY405", line, flow_col) in codes
