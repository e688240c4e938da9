"""forms.js in Chromium over a rendered form (a static page: forms/ alone, no server): the live
messages are the server's — a sub-table's `min_rows` counts the rows given, blank rows are no rows,
a bad value reads as dsl/values words it — and a money field follows the currency its record holds."""
from __future__ import annotations

from pathlib import Path

import pytest

from forms import STATIC_DIR, FormSpec, RenderOptions, Submitted, parse, render_form, validate

from .conftest import form_of
from .test_message_differential import FORM

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed "
                                    "(apt-get install chromium fonts-noto-cjk)")


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def open_form(browser, tmp: Path, html: str):
    page_file = tmp / "form.html"
    page_file.write_text(f'<!doctype html><html lang="zh"><head><meta charset="utf-8">'
                         f'<script src="{(STATIC_DIR / "forms.js").as_uri()}"></script></head>'
                         f'<body>{html}</body></html>', encoding="utf-8")
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(page_file.as_uri())
    page.wait_for_selector("form.bf-live")
    return page, errors


def error_of(page, key: str) -> str:
    return page.locator(f'[data-bf-field="{key}"] [data-bf-error]').first.text_content().strip()


@pytest.fixture(scope="module")
def spec() -> FormSpec:
    return FormSpec.of_form(form_of(FORM))


@needs_chromium
def test_a_table_left_empty_is_not_short_of_rows(browser, spec, tmp_path):
    # the start page: one blank row offered; removing it leaves no rows, which the server accepts
    html = render_form(spec, {}, options=RenderOptions(lang="zh"), new=True, extra_rows={"rows": 1})
    page, errors = open_form(browser, tmp_path, html)
    page.click('input[name="rows.0._delete"]')
    assert page.locator('tr[data-bf-row]').count() == 0
    assert error_of(page, "rows") == ""
    # a refused submit (every message shown at once) with no rows: the server says nothing about them
    raw = Submitted.of({"term": "abc"})
    values, unread = parse(spec, raw, "zh")
    outcome = validate(spec, values, "zh", unread=unread)
    assert "rows" not in outcome.by_key()
    page2, errors2 = open_form(browser, tmp_path, render_form(spec, values, raw=raw, outcome=outcome,
                                                              options=RenderOptions(lang="zh")))
    assert error_of(page2, "rows") == ""
    assert error_of(page2, "term") == outcome.by_key()["term"] == "“abc”不是整数：可写 1200、1,200 或 3万"
    # one row given of the two needed: both sides say so; a blank row beside it counts for nothing
    page2.click('[data-bf-add-row="rows"]')
    page2.fill('input[name="rows.0.amount"]', "100")
    page2.click('[data-bf-add-row="rows"]')
    page2.locator('input[name="rows.1.amount"]').blur()
    assert error_of(page2, "rows") == "至少需要 2 行"
    assert error_of(page2, "rows.1.amount") == ""          # the blank row has no messages
    assert errors == errors2 == []
    page.close(), page2.close()


@needs_chromium
def test_live_words_are_the_servers(browser, spec, tmp_path):
    page, errors = open_form(browser, tmp_path, render_form(spec, {}, options=RenderOptions(lang="zh"), new=True))
    cases = [("amount", "12.345"), ("amount", "999万"), ("share", "51%"), ("share", "abc"), ("term", "3万"),
             ("signed", None), ("code", "ab")]
    for key, text in cases:
        if text is None:
            continue
        page.fill(f'[name="{key}"]', text)
        page.locator(f'[name="{key}"]').blur()
        values, unread = parse(spec, Submitted.of({key: text, "term": "12"} if key != "term" else {key: text}), "zh")
        want = validate(spec, values, "zh", unread=unread).by_key().get(key, "")
        assert error_of(page, key) == want, (key, text)
        page.fill(f'[name="{key}"]', "")
    assert errors == []
    page.close()
