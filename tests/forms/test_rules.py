"""Server-side rules: the same compiled expressions decide show/hide, required and checks."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from forms import FormSpec, Submitted, parse, validate

from .conftest import form_of


@pytest.fixture(scope="module")
def credit(bundle):
    return FormSpec.of_form(bundle.get("Form", "credit_application"))


@pytest.fixture(scope="module")
def company(bundle):
    return FormSpec.of_entity(bundle.entities["company"])


def check(spec, data, lang="en"):
    values, problems = parse(spec, Submitted.of(data), lang)
    out = validate(spec, values, lang)
    out.errors[:0] = problems
    return out


GOOD = {"credit_type": "new", "amount": "5亿", "term_months": "12", "products": ["working_capital"],
        "purpose": "流动资金周转", "guarantee_mode": "credit",
        "sub_limits.0.borrower": "91310000MA1FL8XQ3X", "sub_limits.0.amount": "1亿"}


def test_a_complete_application_passes(credit):
    out = check(credit, GOOD)
    assert out.errors == []
    assert out.values["amount"] == Decimal("500000000")


def test_hidden_values_are_cleared_unless_keep(credit):
    out = check(credit, {**GOOD, "collateral_description": "厂房", "urgent": "", "urgent_reason": "年底"})
    assert "collateral_description" in out.hidden and out.values["collateral_description"] is None
    assert "urgent_reason" in out.hidden and out.values["urgent_reason"] == "年底"       # on_hidden: keep
    assert out.errors == []                                        # hidden: never required, never checked


def test_conditional_required_follows_the_condition(credit):
    out = check(credit, {**GOOD, "guarantee_mode": "mortgage"})
    assert out.by_key() == {"collateral_description": "This field is required"}
    assert "collateral_description" in out.required
    out = check(credit, {**GOOD, "credit_type": "renewal"}, "zh")
    assert out.by_key() == {"previous_amount": "此项必填"}


def test_conditions_inside_repeating_rows(credit):
    data = {**GOOD, "sub_limits.0.guaranteed": "true", "sub_limits.1.borrower": "B", "sub_limits.1.amount": "1",
            "sub_limits.1.guaranteed": "true", "sub_limits.1.guarantor": "B"}
    out = check(credit, data)
    assert out.by_key() == {"sub_limits.0.guarantor": "This field is required",
                            "sub_limits.1.guarantor": "A borrower cannot guarantee itself"}
    assert "sub_limits.0.guarantor" not in out.hidden


def test_range_and_cross_field_rules(credit):
    out = check(credit, {**GOOD, "amount": "500万", "sub_limits.0.amount": "1亿"})
    assert out.by_key()["amount"].startswith("Must be at least ¥10,000,000.00")
    out = check(credit, {**GOOD, "sub_limits.0.amount": "6亿"})
    assert out.by_key() == {"sub_limits": "The sub-limits cannot add up to more than the amount applied for"}


def test_rows_minimum(credit):
    """`min_rows` counts the rows given; an empty table is only refused when it is `required`
    (as `min_length` leaves an empty text to `required`)."""
    data = {k: v for k, v in GOOD.items() if not k.startswith("sub_limits")}
    assert check(credit, data).by_key() == {}
    few = dataclasses.replace(credit.field("sub_limits"), min_rows=2)
    spec = dataclasses.replace(credit, fields=tuple(few if f.name == "sub_limits" else f for f in credit.fields))
    assert check(spec, GOOD).by_key() == {"sub_limits": "At least 2 row(s) are needed"}


def test_entity_check_and_required_when(company):
    base = {"credit_code": "91310000MA1FL8XQ3Y", "name": "测试", "legal_form": "joint_stock", "industry": "energy",
            "registered_capital": "1亿", "established_on": "2001-01-01", "region": "310000", "branch": "sh_branch",
            "status": "operating", "listed": "true"}
    out = check(company, base, "zh")
    assert out.by_key() == {"credit_code": "统一社会信用代码校验位不正确", "ticker": "此项必填"}
    out = check(company, {**base, "credit_code": "91310000MA1FL8XQ3", "ticker": "600519"}, "en")
    assert out.by_key() == {"credit_code": "Must be at least 18 characters", "ticker": "This is not in the expected format"}


def test_computed_fields_of_a_form():
    form = form_of("""
apiVersion: banyan/v1
kind: Form
metadata: {name: quote}
spec:
  fields:
    - {name: qty, type: integer, label: Qty}
    - {name: price, type: money, label: Price}
    - {name: total, type: money, label: Total, compute: "qty * price"}
""")
    spec = FormSpec.of_form(form)
    out = check(spec, {"qty": "3", "price": "2.50", "total": "999"})
    assert out.values["total"] == Decimal("7.50")
