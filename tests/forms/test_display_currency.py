"""Money shows the currency it is in: fixed by the field, or held by the record's own field."""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from forms.display import display_text


def money(**kw):
    return SimpleNamespace(type_name="money", scale=None, currency=kw.get("currency"),
                           currency_field=kw.get("currency_field"))


def test_a_fixed_currency_and_a_currency_the_record_holds():
    assert display_text(money(currency="CNY"), Decimal("1234.5"), "zh") == "¥1,234.50"
    held = money(currency_field="currency")
    assert display_text(held, Decimal("1234.5"), "zh", record={"currency": "USD"}) == "$1,234.50"
    assert display_text(held, Decimal("1234.5"), "en", record={"currency": "CHF"}) == "CHF 1,234.50"
    # the record is not at hand: the figure without a sign, never a guessed ¥
    assert display_text(held, Decimal("1234.5"), "zh") == "1,234.50"
