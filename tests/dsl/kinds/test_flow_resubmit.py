"""The DSL of return-to-initiator and reasons (issue 12, items 5 and 6): `return_to: [initiator]`,
`resubmit` on the flow or a step, `reason_required` on a step — compiled into the IR, and a key
that has no effect where it is written (or a reserved node id) refused."""
from __future__ import annotations

import pytest

from dsl.kinds.flow.ir import DEFAULT_REASONS, INITIATOR

from .test_flow import FLOW, compile_flow


def _errors(result, code: str = "BNY407"):
    return [d for d in result.diagnostics if d.code == code and d.severity == "error"]


def test_return_to_the_initiator_resubmit_and_reasons_compile_into_the_ir():
    text = FLOW.replace("return_to: [review]", "return_to: [initiator, review]\n      resubmit: from_start\n"
                                               "      reason_required: [reject, return, approve]") \
               .replace("  nodes:\n", "  resubmit: from_returning_step\n  nodes:\n")
    result = compile_flow(text)
    assert result.ok, result.diagnostics.items
    flow = result.bundle.documents[("Flow", "approve")]
    committee, review = flow.by_id["committee"], flow.by_id["review"]
    assert committee.return_to == (INITIATOR, "review")
    assert committee.resubmit == "from_start" and flow.resubmit == "from_returning_step"
    assert committee.reason_required == ("reject", "return", "approve")
    assert review.reason_required == DEFAULT_REASONS == ("reject", "return") and review.resubmit is None


def test_reasons_can_be_switched_off_for_a_step():
    result = compile_flow(FLOW.replace("return_to: [review]", "return_to: [review]\n      reason_required: []"))
    assert result.ok and result.bundle.documents[("Flow", "approve")].by_id["committee"].reason_required == ()


@pytest.mark.parametrize("node, key", [
    ("return_to: [review]\n      resubmit: from_start", "resubmit"),                 # nothing returns to them
    ("return_to: [initiator]\n      actions: [approve, reject]\n      resubmit: from_start", "return_to"),
    ("return_to: [review]\n      actions: [approve, return]\n      reason_required: [reject]", "reason_required: reject"),
])
def test_a_key_with_no_effect_is_refused(node, key):
    result = compile_flow(FLOW.replace("return_to: [review]", node))
    errors = _errors(result)
    assert not result.ok and any(f"`{key}` has no effect here" in d.message for d in errors), errors


def test_a_flow_resubmit_with_no_step_returning_to_the_initiator_is_refused():
    result = compile_flow(FLOW.replace("  nodes:\n", "  resubmit: from_start\n  nodes:\n"))
    errors = _errors(result)
    assert not result.ok and "`resubmit` has no effect here" in errors[0].message
    ok = FLOW.replace("  nodes:\n", "  resubmit: from_start\n  nodes:\n") \
             .replace("return_to: [review]", "return_to: [initiator]")
    assert compile_flow(ok).ok


@pytest.mark.parametrize("node", ["resubmit: later", "reason_required: [urge]", "reason_required: reject"])
def test_unknown_values_are_refused_by_the_schema(node):
    result = compile_flow(FLOW.replace("return_to: [review]", f"return_to: [initiator]\n      {node}"))
    assert not result.ok


def test_initiator_is_not_a_node_id():
    text = FLOW.replace("- id: branch_ok", "- id: initiator").replace("default: branch_ok", "default: initiator")
    result = compile_flow(text)
    assert not result.ok and any("`initiator` cannot be a node id" in d.message for d in _errors(result, "BNY402"))


def test_the_shipped_credit_approval_returns_to_the_initiator_at_its_review_steps():
    from dsl.compiler import compile_path
    result = compile_path("configs")
    assert result.ok, [d.message for d in result.diagnostics if d.severity == "error"]
    flow = result.bundle.documents[("Flow", "group_credit_approval")]
    for node in ("document_review", "risk_assessment", "branch_approval", "head_office_review", "committee"):
        assert INITIATOR in flow.by_id[node].return_to, node
