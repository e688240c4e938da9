"""`banyan test`: a bundle's TestSuites run against a throwaway database — given records through
the records service, the alert rules at the case's `now`, differences at the case's lines."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dsl.compiler import compile_path
from runtime.cli.main import main
from runtime.testing.runner import run_bundle

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

SUITE = """\
apiVersion: banyan/v1
kind: TestSuite
metadata:
  name: runner_checks
  label: {zh: 运行器检查, en: Runner checks}
  owner: risk_management
spec:
  defaults:
    company: {legal_form: limited_liability, industry: manufacturing, registered_capital: 1亿,
              established_on: 2010-01-01, region: '310000', branch: sh_branch, status: operating}
    external_event: {severity: high, source: credit_china, amount: 120万}
  cases:
    - name: a listing is red
      now: '2026-05-01'
      given:
        company: {credit_code: 91420100MA4K7L3P2E, name: 武汉路桥建设有限公司}
        events:
          - {event_no: X000001, type: dishonest_debtor, occurred_on: 2026-04-20, title: 列入失信被执行人名单}
      expect:
        alerts: [{rule: dishonest_debtor_listed, grade: red, on: company/91420100MA4K7L3P2E}]
        notified: [{role: risk_manager, channel: email}, {role: chief_risk_officer}]
        started: [major_risk_disposal]
      then:
        - after: 3 months
          expect:
            alerts: [{rule: dishonest_debtor_listed, grade: red}]
            started: []
        - after: 2 days
          expect:
            alerts: []
            notified: [{role: legal_compliance, channel: sms}]
    - name: a listing said to raise nothing
      now: '2026-05-01'
      given:
        company: {credit_code: 91420100MA4K7L3P2E, name: 武汉路桥建设有限公司}
        events:
          - {event_no: X000001, type: dishonest_debtor, occurred_on: 2026-04-20, title: 列入失信被执行人名单}
      expect:
        alerts: []
    - name: a company without its name
      given:
        company: {credit_code: 91420100MA4K7L3P2E}
      expect:
        alerts: []
    - name: a computed field given a value
      given:
        company: {credit_code: 91420100MA4K7L3P2E, name: 武汉路桥建设有限公司, debt_ratio: 50%}
      expect:
        alerts: []
    - name: a group that is not there
      given:
        company: {credit_code: 91420100MA4K7L3P2E, name: 武汉路桥建设有限公司, group: G9999}
      expect:
        alerts: []
    - name: a quiet company
      now: '2026-05-01'
      given:
        company: {credit_code: 91420100MA4K7L3P2E, name: 武汉路桥建设有限公司}
      expect:
        alerts: [{rule: dishonest_debtor_listed, grade: none}]
    - name: a tier said wrongly
      given:
        group: {code: G0002, name: 南方能源集团, industry: energy, lead_branch: gz_branch, recognized_on: 2020-01-01,
                industry_outlook: strong}
      expect:
        tier: {tiering: group_value_matrix, tier: opportunity_adjustment, scores: {potential: 80, contribution: 10}}
    - name: a group said to be high potential
      given:
        group: {code: G0003, name: 京津城投集团, industry: construction, lead_branch: bj_branch, recognized_on: 2020-01-01}
      expect:
        tier: {tiering: group_value_matrix, tier: high_potential}
"""


@pytest.fixture(scope="module")
def bundle_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bundle") / "configs"
    shutil.copytree(CONFIGS, root, ignore=shutil.ignore_patterns("tests"))
    (root / "tests").mkdir()
    (root / "tests" / "runner_checks.yaml").write_text(SUITE, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def report(bundle_dir):
    result = compile_path(str(bundle_dir))
    assert result.ok, result.diagnostics
    return run_bundle(result.bundle)


def _line(text: str, marker: str, then: str | None = None) -> int:
    """The 1-based line of `marker` (of the first `then` after it, when given)."""
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if marker in line)
    if then is not None:
        at = next(i for i, line in enumerate(lines) if i > at and then in line)
    return at + 1


def test_each_case_is_judged_on_its_own_database(report):
    by_name = {r.case: r for r in report.results}
    listed = by_name["a listing is red"]
    assert listed.status == "failed"                      # its first two moments hold; the third is wrong twice
    assert [(d.what, d.span.line) for d in listed.differences] == [
        ("alerts", _line(SUITE, "after: 2 days", "expect:")),
        ("notified", _line(SUITE, "{role: legal_compliance, channel: sms}"))]
    assert listed.differences[1].got == "nothing sent"
    assert by_name["a quiet company"].status == "passed"            # the first case's alert is not here
    failed = by_name["a listing said to raise nothing"]
    assert failed.status == "failed"
    [d] = failed.differences
    assert d.got == "dishonest_debtor_listed red on company/91420100MA4K7L3P2E"
    assert d.span.line == _line(SUITE, "a listing said to raise nothing", "expect:")
    assert report.counts() == {"passed": 1, "failed": 4, "error": 3}
    assert not report.ok() and not report.ok(allow_not_run=True)


def test_a_record_the_field_rules_refuse_is_an_error_at_its_line(report):
    bad = next(r for r in report.results if r.case == "a company without its name")
    assert bad.status == "error"
    [d] = bad.differences
    assert d.what == "given" and "name" in d.got and "Traceback" not in d.got
    assert d.span.line == _line(SUITE, "company: {credit_code: 91420100MA4K7L3P2E}")


@pytest.mark.parametrize("case, field, words", [("a computed field given a value", "debt_ratio", "calculated"),
                                                ("a group that is not there", "group", "G9999")])
def test_what_no_other_door_accepts_is_refused_here_too(report, case, field, words):
    bad = next(r for r in report.results if r.case == case)
    [d] = bad.differences
    assert bad.status == "error" and f"{field}: " in d.got and words in d.got and d.got.count(words) == 1


def test_tier_cases_compare_the_tier_and_the_scores_named(report):
    wrong = next(r for r in report.results if r.case == "a tier said wrongly")
    assert wrong.status == "failed"
    assert [(d.what, d.expected, d.got) for d in wrong.differences] == [
        ("tier", "G0002: opportunity_adjustment", "G0002: high_potential (row 2)"),
        ("tier.scores.potential", "80", "90")]                      # contribution 10 holds
    assert {d.span.line for d in wrong.differences} == {_line(SUITE, "tier: {tiering: group_value_matrix, "
                                                                     "tier: opportunity_adjustment")}
    stable = next(r for r in report.results if r.case == "a group said to be high potential")
    [d] = stable.differences
    assert d.got == "G0003: opportunity_adjustment (row 4)"      # the default outlook is stable: potential 60


def test_coverage_counts_the_grades_that_fired(report):
    cov = report.coverage
    assert cov.grades[("dishonest_debtor_listed", "red")] is True
    assert cov.grades[("loan_overdue", "red")] is False
    assert any(k[0] == "dishonest_debtor_listed" and hit for k, hit in cov.actions.items())   # its start_flow ran


def test_cli_exit_codes_text_and_json(bundle_dir, tmp_path):
    runner = CliRunner()
    out = runner.invoke(main, ["test", str(bundle_dir)])
    assert out.exit_code == 1, out.output
    assert "✗ a listing said to raise nothing" in out.output
    assert f"runner_checks.yaml:{_line(SUITE, 'a listing said to raise nothing', 'expect:')}" in out.output
    assert "1 passed, 4 failed, 3 error" in out.output
    data = json.loads(runner.invoke(main, ["test", str(bundle_dir), "--format", "json", "--coverage"]).output)
    assert data["counts"]["passed"] == 1 and data["ok"] is False
    assert "loan_overdue red" in data["coverage"]["missing"]["grades"]
    # a suite that only passes: 0
    good = tmp_path / "good"
    shutil.copytree(bundle_dir, good)
    third = SUITE[SUITE.index("        - after: 2 days"):SUITE.index("    - name: a listing said to raise nothing")]
    text = SUITE.replace(third, "")
    text = text.split("    - name: a listing said to raise nothing")[0] + \
        text[text.index("    - name: a quiet company"):text.index("    - name: a tier said wrongly")]
    assert "without its name" not in text and "computed field" not in text
    (good / "tests" / "runner_checks.yaml").write_text(text, encoding="utf-8")
    passed = runner.invoke(main, ["test", str(good)])
    assert passed.exit_code == 0, passed.output
    assert runner.invoke(main, ["test", str(good), "--suite", "nope"]).exit_code == 2


def test_record_keeps_which_cases_exercise_each_grade(bundle_dir, tmp_path, monkeypatch):
    from runtime.alerts.reports import latest
    from runtime.storage.db import make_engine
    url = f"sqlite:///{tmp_path / 'deployed.db'}"
    monkeypatch.setenv("BANYAN_DATABASE_URL", url)
    CliRunner().invoke(main, ["test", str(bundle_dir), "--record"])
    engine = make_engine(url)
    body = latest(engine, "dishonest_debtor_listed")["coverage"]["body"]
    assert body["grades"]["red"] == ["a listing is red", "a listing said to raise nothing"]
    assert latest(engine, "loan_overdue")["coverage"]["body"]["grades"]["red"] == []
    engine.dispose()


def test_an_impossible_now_does_not_compile(bundle_dir, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(bundle_dir, bad)
    (bad / "tests" / "runner_checks.yaml").write_text(SUITE.replace("'2026-05-01'", "'2026-13-15'", 1), encoding="utf-8")
    out = CliRunner().invoke(main, ["test", str(bad)])
    assert out.exit_code == 2
    assert "BNY308" in out.output and "2026-13-15" in out.output
