"""The YAML loader: positions on every node, YAML 1.1 traps, and never a traceback."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.diagnostics import Diagnostics
from dsl.loader import load_text


def load(text: str):
    diags = Diagnostics()
    return load_text(text, "t.yaml", diags), diags


def codes(diags) -> list[str]:
    return [d.code for d in diags]


def test_positions_of_values_and_keys():
    doc, diags = load("a:\n  b: [1, 'x']\n  c: \"quoted\"\n")
    assert not diags
    assert doc.data == {"a": {"b": [1, "x"], "c": "quoted"}}
    assert (doc.span(("a", "b", 1)).line, doc.span(("a", "b", 1)).col) == (2, 11)  # after the quote
    assert (doc.span(("a", "c")).line, doc.span(("a", "c")).col) == (3, 7)  # after the quote
    assert (doc.key_span(("a", "c")).line, doc.key_span(("a", "c")).col) == (3, 3)


def test_block_scalar_points_at_its_text():
    doc, _ = load("rule: |\n  amount > 5亿\n")
    span = doc.span(("rule",))
    assert (span.line, span.col) == (2, 3)


def test_keys_are_text_as_written():
    doc, diags = load("on: [x]\nNO: 1\ny: 2\n")
    assert not diags
    assert set(doc.data) == {"on", "NO", "y"}


def test_true_false_are_booleans_and_other_words_are_traps():
    doc, diags = load("a: true\nb: False\nc: yes\nd: Off\n")
    assert doc.data["a"] is True and doc.data["b"] is False
    assert codes(diags) == ["BNY104", "BNY104"]


def test_quoted_words_are_text():
    doc, diags = load("a: 'NO'\nb: \"on\"\n")
    assert not diags and doc.data == {"a": "NO", "b": "on"}


def test_octal_and_base60_are_errors():
    _, diags = load("a: 0012\nb: 12:30\nc: 0\n")
    assert codes(diags) == ["BNY105", "BNY106"]


def test_decimals_keep_their_digits():
    doc, diags = load("a: 1.10\nb: 12\n")
    assert doc.data == {"a": Decimal("1.10"), "b": 12}
    assert doc.plain_scalars[("a",)] == "1.10"


def test_dates_stay_as_written():
    doc, _ = load("d: 2026-03-31\n")
    assert doc.data == {"d": "2026-03-31"}


def test_duplicate_key_points_at_the_second():
    _, diags = load("a: 1\nb: 2\na: 3\n")
    (d,) = diags
    assert (d.code, d.span.line, d.span.col) == ("BNY102", 3, 1)
    assert "line 1" in d.hint


def test_aliases_anchors_and_merge_keys_are_errors():
    _, diags = load("a: &x 1\nb: *x\nc:\n  <<: {d: 1}\n")
    assert codes(diags).count("BNY108") == 3


def test_custom_tags_are_errors():
    _, diags = load("a: !python/object x\n")
    assert "BNY108" in codes(diags) or "BNY101" in codes(diags)


def test_syntax_error_has_position_and_hint():
    doc, diags = load("a: [1, 2\nb: 3\n")
    assert doc is None
    (d,) = diags
    assert d.code == "BNY101" and d.span.line >= 1 and d.hint


def test_tab_indentation_hint():
    _, diags = load("a:\n\tb: 1\n")
    (d,) = diags
    assert d.code == "BNY101" and "tab" in d.hint


def test_more_than_one_document():
    _, diags = load("a: 1\n---\nb: 2\n")
    assert codes(diags) == ["BNY103"]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_random_text_gives_only_diagnostics(text):
    doc, diags = load(text)
    for d in diags:
        assert d.code.startswith("BNY") and d.span.line >= 1 and d.span.col >= 1


VALID = """apiVersion: banyan/v1
kind: Entity
metadata:
  name: firm
  label: {zh: 成员企业, en: Firm}
spec:
  key: code
  fields:
    - {name: code, type: string, required: true, unique: true}
    - {name: amount, type: money, min: 0}
"""


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_random_mutations_of_a_valid_file_give_only_diagnostics(data):
    from dsl.compiler import compile_texts
    text = VALID
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = data.draw(st.sampled_from([":", " ", "\n", "-", "[", "]", "{", "}", "'", '"', "\t", "&a", "*a",
                                           "yes", "0012", "1.10", "ref(", "#", "|", "x", "亿", "%"]))
        if op == "insert":
            text = text[:pos] + chunk + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + len(chunk):]
        else:
            text = text[:pos] + chunk + text[pos + 1:]
    result = compile_texts({"firm.yaml": text})
    for d in result.diagnostics:
        assert d.code.startswith("BNY") and d.span.line >= 1


# -- bounded input (issue 16, part 8) -------------------------------------------------------------
def _laughs(levels: int = 9, fan: int = 10) -> str:
    lines = ["a0: &a0 [" + ",".join(['"lol"'] * fan) + "]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * fan) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_an_alias_is_reported_and_never_expanded():
    diags = Diagnostics()
    doc = load_text(_laughs(), "laughs.yaml", diags)           # 10^9 strings if aliases were followed
    assert doc.data["a8"] == [None] * 10 and doc.data["a1"] == [None] * 10
    assert sum(d.code == "BNY108" and "alias" in d.message for d in diags) == 80


@pytest.mark.parametrize("depth,ok", [(64, True), (65, False), (600, False)])
def test_nesting_is_bounded(depth, ok):
    from dsl.loader import MAX_DEPTH
    assert MAX_DEPTH == 64
    diags = Diagnostics()
    doc = load_text("[" * depth + "]" * depth + "\n", "deep.yaml", diags)
    assert doc is not None
    assert [d.code for d in diags] == ([] if ok else ["BNY109"])
    if not ok:
        first = next(iter(diags))
        assert first.span.line == 1 and first.span.col == MAX_DEPTH + 1        # where it passes the bound


def test_a_long_text_is_checked_for_depth_before_it_is_composed():
    from dsl.loader import SAFE_TO_COMPOSE
    diags = Diagnostics()
    depth = SAFE_TO_COMPOSE // 2 + 1                            # over the length at which composing is trusted
    assert load_text("[" * depth + "]" * depth + "\n", "deep.yaml", diags) is None
    assert [d.code for d in diags] == ["BNY109"]


def test_thirty_thousand_levels_are_a_diagnostic_not_a_crash(tmp_path):
    import subprocess
    import sys
    path = tmp_path / "deep.yaml"
    path.write_text("key:\n" + "  - " * 1 + "[" * 30000 + "]" * 30000 + "\n")
    r = subprocess.run([sys.executable, "-m", "runtime.cli.main", "validate", str(path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 1, r.stderr[-500:]                  # not -11 (SIGSEGV) or a traceback
    assert "BNY109" in r.stdout + r.stderr and "Traceback" not in r.stderr


def test_a_kind_that_is_not_text_is_a_diagnostic(tmp_path):
    from dsl.compiler import compile_path
    path = tmp_path / "x.yaml"
    path.write_text("apiVersion: banyan/v1\nkind: [Role]\nmetadata: {name: x}\nspec: {}\n")
    result = compile_path(str(path))
    assert [(d.code, d.span.line) for d in result.diagnostics] == [("BNY206", 2)]      # was a TypeError traceback
