"""Form: entity-style fields plus visible_when, sub-tables and layout; the compiled
conditions are the ones the renderer and the server both run."""
from __future__ import annotations

from decimal import Decimal

from .kinds_helpers import compile_with_base, found

FORM = """\
apiVersion: banyan/v1
kind: Form
metadata: {name: app}
spec:
  fields:
    - {name: amount, type: money, required: true, currency: CNY, scale: 2}
    - {name: secured, type: bool}
    - {name: collateral, type: text, visible_when: "secured", required_when: "secured", on_hidden: keep}
    - name: guarantors
      type: table
      min_rows: 1
      max_rows: 5
      columns:
        - {name: company, type: ref(company), required: true}
        - {name: share, type: percent, visible_when: "form.amount > 1亿"}
  validations:
    - {rule: "count(guarantors) <= 5", message: {zh: 最多五个担保人}}
  layout:
    tabs:
      - {id: main, sections: [request, security]}
    sections:
      - {id: request, columns: 2, fields: [amount, secured]}
      - {id: security, fields: [collateral, guarantors], visible_when: "secured"}
"""


def test_a_form_compiles_to_ir_with_live_conditions():
    result = compile_with_base(app=FORM)
    assert result.ok, result.diagnostics.items
    form = result.bundle.documents[("Form", "app")]
    collateral = form.field("collateral")
    assert collateral.field.on_hidden == "keep"
    assert collateral.visible_when.test({"secured": True}) and not collateral.visible_when.test({"secured": None})
    assert collateral.field.required_when.test({"secured": True})
    table = form.field("guarantors")
    assert table.is_table and (table.min_rows, table.max_rows) == (1, 5)
    share = table.columns[1]
    assert share.visible_when.test({"form": {"amount": Decimal("200000000")}})
    assert not share.visible_when.test({"form": {"amount": Decimal("1000")}})
    assert form.field("amount").field.currency == "CNY" and form.field("amount").field.scale == 2
    assert [s.id for s in form.sections] == ["request", "security"] and form.tabs[0].sections == ("request", "security")


def test_the_form_and_its_rows_are_record_types_for_flows():
    flow = """\
    apiVersion: banyan/v1
    kind: Flow
    metadata: {name: f}
    spec:
      form: app
      start: {}
      nodes:
        - {id: route, type: branch, cases: [{when: "count(form.guarantors, g -> g.share > 10%) > 0", goto: done}], default: done}
        - {id: done, type: end}
    """
    assert compile_with_base(app=FORM, f=flow).ok
    bad = compile_with_base(app=FORM, f=flow.replace("g.share", "g.shares"))
    assert {c for c, _, _ in found(bad, "f.yaml")} == {"BNY307"}


def test_layout_names_fields_and_sections_that_exist():
    text = FORM.replace("fields: [amount, secured]", "fields: [amount, secure, secured]") \
               .replace("sections: [request, security]", "sections: [request, securty]")
    result = compile_with_base(app=text)
    codes = found(result, "app.yaml")
    assert ("BNY404", 22, 52) in codes
    assert ("BNY401", 20, 40) in codes
    assert any("did you mean `secured`" in (d.hint or "") for d in result.diagnostics)


def test_a_field_in_two_sections_and_a_duplicate_section():
    text = FORM.replace("fields: [collateral, guarantors]", "fields: [collateral, guarantors, amount]")
    result = compile_with_base(app=text)
    assert {c for c, _, _ in found(result, "app.yaml")} == {"BNY402"}


def test_conditions_are_type_checked_against_the_form():
    text = FORM.replace('visible_when: "secured", required', 'visible_when: "amount", required') \
               .replace('"form.amount > 1亿"', '"form.amont > 1亿"')
    result = compile_with_base(app=text)
    codes = {c for c, _, _ in found(result, "app.yaml")}
    assert "BNY306" in codes or "BNY311" in codes
    assert "BNY307" in codes


def test_table_options_fit_only_tables():
    text = FORM.replace("{name: secured, type: bool}", "{name: secured, type: bool, min_rows: 1}") \
               .replace("      min_rows: 1\n      max_rows: 5\n      columns:", "      min_rows: 6\n      max_rows: 5\n      cols:")
    result = compile_with_base(app=text)
    assert {c for c, _, _ in found(result, "app.yaml")} == {"BNY205"}
    text = FORM.replace("{name: secured, type: bool}", "{name: secured, type: bool, min_rows: 1}") \
               .replace("min_rows: 1\n      max_rows: 5", "min_rows: 6\n      max_rows: 5")
    result = compile_with_base(app=text)
    assert {c for c, _, _ in found(result, "app.yaml")} == {"BNY407", "BNY209"}


def test_a_table_needs_columns_and_a_form_may_not_shadow_an_entity():
    text = FORM.replace("      columns:\n        - {name: company, type: ref(company), required: true}\n"
                        "        - {name: share, type: percent, visible_when: \"form.amount > 1亿\"}\n", "")
    result = compile_with_base(app=text)
    assert ("BNY204", 10, 7) in found(result, "app.yaml")
    clash = compile_with_base(company_form=FORM.replace("name: app", "name: company"))
    assert "BNY402" in {c for c, _, _ in found(clash, "company_form.yaml")}
