"""The code catalogue is a test table: every code is well-formed, explained, and emitted."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsl.codes import CODES
from dsl.diagnostics import Diagnostic
from dsl.schema_export import explain
from dsl.source import Span

DSL = Path(__file__).resolve().parents[2] / "dsl"
SOURCE = "\n".join(p.read_text(encoding="utf-8") for p in DSL.rglob("*.py") if p.name != "codes.py")


@pytest.mark.parametrize("code", sorted(CODES))
def test_code_is_catalogued_properly(code):
    entry = CODES[code]
    assert re.fullmatch(r"BNY\d{3}", code)
    assert entry.title and not entry.title.endswith(".")
    assert len(entry.explanation) > 30
    assert explain(code).startswith(code)


@pytest.mark.parametrize("code", sorted(CODES))
def test_code_is_emitted_somewhere(code):
    assert f'"{code}"' in SOURCE, f"{code} is catalogued but nothing emits it"


def test_emitted_codes_are_catalogued():
    for code in set(re.findall(r'"(BNY\d{3})"', SOURCE)):
        assert code in CODES


def test_an_uncatalogued_code_is_refused():
    with pytest.raises(ValueError):
        Diagnostic("BNY999", "x", Span("f", 1, 1))


def test_every_kind_schema_is_a_valid_json_schema():
    # Checked here rather than at import: meta-validation costs a second at every start-up.
    from jsonschema import Draft202012Validator

    from dsl.kinds import KINDS
    for kind in KINDS.values():
        Draft202012Validator.check_schema(kind.schema)
