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


def _output(html: str, key: str) -> str:
    import re
    m = re.search(rf'<output id="f-{key}"[^>]*>([^<]*)</output>', html)
    assert m, key
    return m.group(1)


def _prefix(html: str, key: str) -> str:
    import re
    m = re.search(rf'<span class="bf-prefix" aria-hidden="true">([^<]*)</span><input[^>]*id="f-{key}"', html)
    assert m, key
    return m.group(1)


def test_a_form_view_shows_the_currency_its_record_holds(bundle):
    """facility.available is read-only money in the currency the record's own `currency` holds."""
    from forms import FormSpec, RenderOptions, Submitted, parse, program, render_form, validate
    spec = FormSpec.of_entity(bundle.entities["facility"])
    record = {"currency": "USD", "amount": Decimal("8000"), "used": Decimal("3000"), "available": Decimal("5000")}
    outcome = validate(spec, record, "zh", compute=False)
    html = render_form(spec, record, outcome=outcome, options=RenderOptions(lang="zh"))
    assert _output(html, "available") == "$5,000.00"
    assert _prefix(html, "amount") == "$"
    # a new record whose currency is not chosen yet: the figure alone, never a guessed ¥
    blank = render_form(spec, {}, options=RenderOptions(lang="zh"), new=True)
    if "currency" not in {f.name for f in spec.fields if f.field.default is not None}:
        assert _prefix(blank, "amount") == ""
    # a refused submit keeps the currency the person chose
    raw = Submitted.of({"currency": "EUR", "amount": "abc"})
    values, unread = parse(spec, raw, "zh")
    again = render_form(spec, values, raw=raw, outcome=validate(spec, values, "zh", unread=unread),
                        options=RenderOptions(lang="zh"))
    assert _prefix(again, "amount") == "€"
    # the browser is told where the currency lives, to follow a change of it
    rules = program(spec, "zh")["fields"]
    assert rules["amount"]["currency_field"] == "currency" and "sign" not in rules["amount"]
