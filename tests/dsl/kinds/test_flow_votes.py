"""Validate-time checks of issue 12's approval semantics: a percentage or decimal beside a simple
fraction is flagged (67% of 3 needs all three), `if_initiator: skip` over a single assignee, and
keys that have no effect where they are written are refused."""
from __future__ import annotations

from fractions import Fraction

import pytest

from dsl.kinds.flow.nodes import near_fraction
from dsl.schema_export import explain

from .test_flow import FLOW, compile_flow


def _diags(text: str, code: str):
    return [d for d in compile_flow(text).diagnostics if d.code == code and d.span.file == "approve.yaml"]


def _ratio(cs: str, assignees: str = "role('credit_committee')"):
    text = FLOW.replace("{mode: ratio, pass: 2/3, veto: [chief_risk_officer]}", cs) \
               .replace('assignees: "role(\'credit_committee\')"', f'assignees: "{assignees}"')
    return _diags(text, "BNY509")


@pytest.mark.parametrize("written", ["67%", "0.67", "66.7%", "33%"])
def test_a_percentage_beside_a_simple_fraction_is_a_warning_naming_the_fraction(written):
    (d,) = _ratio(f"{{mode: ratio, pass: {written}}}")
    assert d.severity == "warning"
    near = "1/3" if written == "33%" else "2/3"
    assert f"is not {near}" in d.message and f"`pass: {near}`" in d.hint


def test_the_warning_counts_the_signers_it_names():
    (d,) = _ratio("{mode: ratio, pass: 67%}")
    assert "with 3 signers it needs 3 approval(s), 2/3 would need 2" in d.message
    (d,) = _ratio("{mode: ratio, pass: 0.67}", "[form.reviewer, initiator.supervisor, initiator]")
    assert "with the 3 signers named it needs 3" in d.message


@pytest.mark.parametrize("written", ["2/3", "60%", "0.5", "75%", "1", "51%"])
def test_exact_or_distant_shares_are_not_flagged(written):
    assert _ratio(f"{{mode: ratio, pass: {written}}}") == []


def test_a_fixed_list_where_the_percentage_agrees_with_the_fraction_is_not_flagged():
    # 66% of 3 needs 2, as 2/3 does: with the signers known, nothing differs
    assert _ratio("{mode: ratio, pass: 66%}", "[form.reviewer, initiator.supervisor, initiator]") == []
    assert _ratio("{mode: ratio, pass: 66%}")          # with a role, some number of signers differs


def test_near_fraction():
    assert near_fraction(Fraction(67, 100)) == (Fraction(2, 3), 3, 3, 2)
    assert near_fraction(Fraction(2, 3)) is None and near_fraction(Fraction(65, 100)) is None
    assert near_fraction(Fraction(67, 100), 100) is None     # 67 of 100 either way


def test_explain_no_longer_offers_the_three_spellings_as_the_same():
    text = explain("Flow.spec.nodes.countersign.pass")
    assert "2/3, 67% or 0.67" not in text
    assert "67% or 0.67 needs all three" in text
    assert "signers of the step" in explain("Flow.spec.nodes.countersign.veto")


def test_if_initiator_skip_over_one_assignee_warns():
    text = FLOW.replace('assignees: "form.reviewer"\n', 'assignees: "form.reviewer"\n      if_initiator: skip\n')
    (d,) = _diags(text, "BNY407")
    assert d.severity == "warning" and "goes to their supervisor" in d.message
    role = FLOW.replace("return_to: [review]", "return_to: [review]\n      if_initiator: skip")
    assert _diags(role, "BNY407") == []              # a role's other holders take it


@pytest.mark.parametrize("node, key", [
    ("actions: [approve, reject, comment]\n      return_to: [review]", "return_to"),
    ("actions: [approve, reject, return]\n      added_signer_reject: reject_request", "added_signer_reject"),
    ("actions: [approve, comment]\n      on_reject: review", "on_reject"),
])
def test_a_key_with_no_effect_where_it_is_written_is_refused(node, key):
    text = FLOW.replace("return_to: [review]", node)
    result = compile_flow(text)
    errors = [d for d in result.diagnostics if d.code == "BNY407" and d.severity == "error"]
    assert not result.ok and errors and f"`{key}` has no effect here" in errors[0].message


def test_an_escalation_nothing_can_start_is_refused():
    text = FLOW.replace("on_timeout: escalate", "on_timeout: remind\n      if_no_assignee: fail")
    errors = [d for d in _diags(text, "BNY407") if d.severity == "error"]
    assert errors and "`escalation` has no effect here" in errors[0].message
    assert compile_flow(FLOW.replace("on_timeout: escalate", "on_timeout: remind")).ok   # who takes an empty step


def test_keys_with_an_effect_are_accepted():
    ok = FLOW.replace("return_to: [review]", "return_to: [review]\n      actions: [approve, reject, return, "
                                             "add_signer]\n      added_signer_reject: reject_request\n      "
                                             "on_reject: review")
    assert compile_flow(ok).ok
    on_timeout = FLOW.replace("return_to: [review]", "return_to: [review]\n      deadline: 2 business days\n"
                                                     "      on_timeout: auto_reject\n      actions: [approve, return]\n"
                                                     "      on_reject: review")
    assert compile_flow(on_timeout).ok


def test_a_task_refuses_an_approvals_key():
    text = FLOW.replace("fields: {editable: [opinion], required: [opinion]}",
                        "fields: {editable: [opinion], required: [opinion]}\n      added_signer_reject: back_to_adder")
    assert "BNY205" in {d.code for d in compile_flow(text).diagnostics}
