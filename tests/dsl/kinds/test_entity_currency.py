"""A money field's currency: a fixed ISO code, or `currency: {field: X}` — the record's own enum
field X says (checked: X exists, is a stored enum, and its values are currency codes)."""
from __future__ import annotations

import pytest

from dsl.compiler import compile_texts

LOAN = """\
apiVersion: banyan/v1
kind: Entity
metadata: {name: loan}
spec:
  key: loan_no
  fields:
    - {name: loan_no, type: string, required: true, unique: true}
    - {name: currency, type: enum, required: true, default: CNY, values: [CNY, USD, HKD]}
    - {name: kind, type: enum, values: [short, long]}
    - {name: memo, type: string}
    - {name: balance, type: money, scale: 2, currency: CURRENCY}
    - {name: fee, type: money, currency: USD}
"""


def _compile(currency: str):
    return compile_texts({"loan.yaml": LOAN.replace("CURRENCY", currency)})


def test_a_field_held_currency_is_in_the_ir():
    result = _compile("{field: currency}")
    assert result.ok, [d.message for d in result.diagnostics.errors]
    loan = result.bundle.entities["loan"]
    balance, fee = loan.field("balance"), loan.field("fee")
    assert balance.currency_field == "currency" and balance.currency is None
    assert fee.currency == "USD" and fee.currency_field is None
    assert loan.field("memo").currency_field is None


@pytest.mark.parametrize("currency, code, words", [
    ("{field: curency}", "BNY404", "names no field"),
    ("{field: memo}", "BNY407", "stored enum"),
    ("{field: kind}", "BNY407", "`short`, `long`, which are not currency codes"),
    ("{name: currency}", "BNY2", ""),
])
def test_a_bad_currency_field_is_reported_where_it_is_written(currency, code, words):
    result = _compile(currency)
    errors = result.diagnostics.errors
    assert not result.ok and errors
    first = errors[0]
    assert first.code.startswith(code) and words in first.message, [(d.code, d.message) for d in errors]
    assert first.span.line == 11           # the balance field's line


def test_the_shipped_money_fields_name_their_currency_field():
    from pathlib import Path

    from dsl.compiler import compile_path
    bundle = compile_path(Path(__file__).resolve().parents[3] / "configs").bundle
    held = {(e.name, f.name): f.currency_field for e in bundle.entities.values() for f in e.fields
            if f.type_name == "money" and f.currency_field}
    assert held == {("facility", "amount"): "currency", ("facility", "used"): "currency",
                    ("facility", "available"): "currency", ("loan", "principal"): "currency",
                    ("loan", "balance"): "currency", ("account", "balance"): "currency"}
    rate = bundle.entities["fx_rate"]
    assert rate.key == "code" and rate.time_field == "rate_date"
    assert {v.value for v in rate.field("currency").values} == {"USD", "EUR", "HKD"}
    assert all(f.label.zh and f.label.en for f in rate.fields)
