"""The golden set: each broken file yields exactly its expected diagnostics at line:col.

A case file starts with `# expect: CODE LINE:COL` lines (one per diagnostic, warnings
included). It is compiled together with the small valid bundle in golden/_base/, which must
itself stay clean.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsl.compiler import compile_texts

GOLDEN = Path(__file__).parent / "golden"
BASE = {f"_base/{p.name}": p.read_text(encoding="utf-8") for p in sorted((GOLDEN / "_base").glob("*.yaml"))}
CASES = sorted(p for p in GOLDEN.glob("*.yaml"))
EXPECT = re.compile(r"^# expect: (BNY\d{3}) (\d+):(\d+)\s*$", re.M)


def expected(text: str) -> set[tuple[str, int, int]]:
    return {(c, int(line), int(col)) for c, line, col in EXPECT.findall(text)}


def test_base_bundle_is_clean():
    result = compile_texts(dict(BASE))
    assert [d.as_dict() for d in result.diagnostics if d.span.file.startswith("_base")] == []
    assert result.ok


def test_golden_set_is_large_and_covers_many_codes():
    codes = set()
    for case in CASES:
        codes |= {c for c, _, _ in expected(case.read_text(encoding="utf-8"))}
    assert len(CASES) >= 40
    assert len(codes) >= 30


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_golden_case(case: Path):
    text = case.read_text(encoding="utf-8")
    want = expected(text)
    assert want, f"{case.name} has no `# expect:` line"
    result = compile_texts({**BASE, case.name: text})
    got = {(d.code, d.span.line, d.span.col) for d in result.diagnostics if d.span.file == case.name}
    assert got == want, "\n".join(f"{d.span}: {d.code}: {d.message}" for d in result.diagnostics)
    assert not any(d.span.file.startswith("_base") for d in result.diagnostics)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert result.ok == (not errors)
