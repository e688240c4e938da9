"""Field patterns run in linear time (RE2) on the server; the browser gets only the ones its
backtracking engine cannot blow up on (issue 16, part 9)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from dsl.compiler import compile_texts
from dsl.patterns import PatternError, backtracking_safe, compile_pattern

ENTITY = """\
apiVersion: banyan/v1
kind: Entity
metadata: {{name: thing, label: {{zh: 物, en: Thing}}}}
spec:
  key: code
  fields:
    - {{name: code, type: string, label: {{zh: 编号, en: Code}}, required: true, unique: true, pattern: "{pattern}"}}
"""


def entity(pattern: str):
    return compile_texts({"thing.yaml": ENTITY.format(pattern=pattern)})


def test_a_catastrophic_pattern_answers_at_once():
    assert compile_pattern("^(R+)+$").search("R" * 5000 + "x") is None          # Python's re: 2^5000 steps
    assert compile_pattern("^(R+)+$").search("RRR") is not None


@pytest.mark.parametrize("pattern,says", [(r"(a)\\1", "escape"), ("(?=a)b", "perl operator"), ("[", "missing ]")])
def test_what_re2_cannot_run_is_a_validate_error(pattern, says, capfd):
    result = entity(pattern)
    found = [(d.code, d.message) for d in result.diagnostics]
    assert [c for c, _ in found] == ["BNY208"] and says in found[0][1]
    assert "re2.cc" not in capfd.readouterr().err                # no library log lines on the console


def test_patterns_that_validate_are_the_ones_that_run():
    assert entity("^G[0-9]{4}$").ok and entity(r"^\\\\p{Han}+$").ok
    with pytest.raises(PatternError):
        compile_pattern("(?<=a)b")


@pytest.mark.parametrize("pattern,safe", [
    ("^(R+)+$", False), ("(x{2,})+", False), ("(a|aa)+", False), ("((a)+)+", False),
    ("^G[0-9]{4}$", True), (r"^\d{6}$", True), ("^(ab)+$", True), ("^(cat|dog)$", True), (r"\(a+\)+", True),
    ("[(]a+[)]+", True), ("(a{1})+", True), ("(a+)?", True),
])
def test_which_patterns_a_backtracking_browser_may_run(pattern, safe):
    assert backtracking_safe(pattern) is safe


def test_the_browser_gets_only_safe_patterns():
    from forms import FormSpec, program
    unsafe = program(FormSpec.of_entity(entity("^(R+)+$").bundle.entities["thing"]), "en")
    safe = program(FormSpec.of_entity(entity("^G[0-9]{4}$").bundle.entities["thing"]), "en")
    assert "pattern" not in unsafe["fields"]["code"] and safe["fields"]["code"]["pattern"] == "^G[0-9]{4}$"


def test_the_records_service_checks_a_catastrophic_pattern_fast(tmp_path):
    """Through the runtime's field rules, in a child process with a deadline: Python's `re` would
    take 2^40 steps on this value (the probe's 31 characters took 36 s)."""
    code = (
        "from dsl.compiler import compile_texts\n"
        "from runtime.records.validation import EntityRules\n"
        f"text = {ENTITY.format(pattern='^(R+)+$')!r}\n"
        "ent = compile_texts({'thing.yaml': text}).bundle.entities['thing']\n"
        "problems = []\n"
        "EntityRules(ent).convert({'code': 'R' * 40 + 'x'}, problems)\n"
        "rules = EntityRules(ent)\n"
        "out = []\n"
        "rules.check({'code': 'R' * 40 + 'x'}, None, out)\n"
        "print([p.code for p in out])\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-800:]
    assert "pattern" in r.stdout


def test_the_byte_level_test_agrees_with_search_on_chinese_and_ascii_text():
    from dsl.patterns import compile_pattern, pattern_test
    for pattern in ("^[一-龥]{2,}(有限公司|集团)$", r"^.{3}$", r"\d{4}", r"^[0-9A-HJ-NPQRTUWXY]{18}$", "é"):
        test, search = pattern_test(pattern), compile_pattern(pattern).search
        for value in ("隆盛控股集团", "上海浦东有限公司", "ab", "中文字", "x2026y", "91310000MA1FL4XQ8T", "café", ""):
            assert test(value) is (search(value) is not None), (pattern, value)
