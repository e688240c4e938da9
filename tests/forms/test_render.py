"""HTML: every field type's widget, messages linked to inputs, layout, escaping, no inline script."""
from __future__ import annotations

import re

from forms import FormSpec, RenderOptions, Submitted, parse, render_form, validate

from .conftest import form_of
from .test_values import ALL_TYPES


def test_every_widget():
    spec = FormSpec.of_form(form_of(ALL_TYPES))
    html = render_form(spec, options=RenderOptions(lang="en", lookup_url=lambda t: f"/lookup/{t}"), new=True)
    for needle in ('name="t"', "<textarea", 'type="date"', 'type="datetime-local"', 'type="checkbox" id="f-b"',
                   '<select id="f-e"', 'type="checkbox" name="me" value="y"', 'data-bf-lookup="/lookup/user"',
                   'role="combobox"', 'type="file"', 'class="bf-prefix" aria-hidden="true">¥', 'bf-suffix'):
        assert needle in html, needle
    assert "<script>" not in html and "onclick" not in html and "style=" not in html
    assert 'type="application/json"' in html


def test_messages_are_linked_and_announced(bundle):
    spec = FormSpec.of_entity(bundle.entities["company"])
    values, problems = parse(spec, Submitted.of({"credit_code": "91310000MA1FL8XQ3Y", "listed": "true"}), "zh")
    out = validate(spec, values, "zh")
    html = render_form(spec, values, raw=Submitted.of({"credit_code": "91310000MA1FL8XQ3Y"}), outcome=out,
                       options=RenderOptions(lang="zh"))
    assert re.search(r'id="f-credit_code"[^>]*aria-describedby="f-credit_code-help f-credit_code-error"'
                     r'[^>]*aria-invalid="true"', html)
    assert '<p class="bf-error" id="f-credit_code-error" aria-live="polite" data-bf-error>统一社会信用代码校验位不正确</p>' in html
    assert 'role="alert"' in html and 'href="#f-ticker"' in html
    assert 'value="91310000MA1FL8XQ3Y"' in html                 # what the person typed is kept


def test_user_text_is_escaped(bundle):
    spec = FormSpec.of_entity(bundle.entities["company"])
    raw = Submitted.of({"name": '"><script>alert(1)</script>'})
    values, _ = parse(spec, raw, "en")
    html = render_form(spec, values, raw=raw, outcome=validate(spec, values, "en"))
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_program_json_cannot_close_its_script_tag():
    form = form_of("""
apiVersion: banyan/v1
kind: Form
metadata: {name: sneaky}
spec:
  fields:
    - {name: a, type: string, label: "</script><b>x", check: "a != '</script>'", check_message: "</script>"}
""")
    html = render_form(FormSpec.of_form(form))
    body = html.split('type="application/json"', 1)[1]
    assert body.count("</script>") == 1                      # only the real end tag


def test_tabs_sections_and_tables(bundle):
    spec = FormSpec.of_form(bundle.get("Form", "credit_application"))
    html = render_form(spec, options=RenderOptions(lang="en"), new=True, extra_rows={"sub_limits": 1})
    assert html.count('class="bf-tab-panel"') == 2 and "data-bf-tablist hidden" in html
    assert 'data-bf-section="security"' in html and 'name="sub_limits.0.borrower"' in html
    assert 'data-bf-template="sub_limits"' in html and 'value="add_row:sub_limits"' in html
    # hidden at first: the collateral fields (guarantee mode not chosen)
    assert re.search(r'data-bf-field="collateral_description"\s*hidden', html)
