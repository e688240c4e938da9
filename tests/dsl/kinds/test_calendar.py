"""The Calendar kind (the bank's own days) and the BNY510 hint on approval deadlines in calendar days."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from dsl.compiler import compile_path
from dsl.kinds.calendar import merged
from dsl.scaffold import scaffold

from .kinds_helpers import compile_with_base, found, messages

ROOT = Path(__file__).resolve().parents[3]


def calendar(name: str, spec: str) -> str:
    return f"apiVersion: banyan/v1\nkind: Calendar\nmetadata: {{name: {name}}}\nspec:\n{spec}"


def test_days_years_and_the_fallback_build():
    r = compile_with_base(bank=calendar("bank", """\
  holidays:
    - {date: 2026-12-31, label: {zh: 年终决算日, en: Year-end closing}}
  workdays:
    - {date: 2027-02-06, label: 调休上班}
  covers_years: [2027]
  beyond_known_years: refuse
"""))
    assert r.ok, messages(r)
    cal = r.bundle.get("Calendar", "bank")
    assert [d.day for d in cal.holidays] == [date(2026, 12, 31)] and cal.holidays[0].label.text("en") == "Year-end closing"
    assert [d.day for d in cal.workdays] == [date(2027, 2, 6)]
    assert (cal.covers_years, cal.beyond_known_years) == ((2027,), "refuse")


def test_schema_problems_are_diagnostics():
    r = compile_with_base(bank=calendar("bank", """\
  holidays:
    - {date: 31/12/2026}
    - {day: 2026-12-31}
  beyond_known_years: guess
"""))
    assert {c for c, _, _ in found(r, "bank.yaml")} >= {"BNY208", "BNY204", "BNY207"}


def test_a_day_twice_or_in_both_lists_is_reported():
    r = compile_with_base(bank=calendar("bank", """\
  holidays:
    - {date: 2026-10-09}
    - {date: 2026-10-09}
  workdays:
    - {date: 2026-10-09}
"""))
    assert found(r, "bank.yaml") == {("BNY402", 7, 14), ("BNY210", 9, 14)}


def test_documents_merge_and_must_agree():
    ok = compile_with_base(a=calendar("a", "  holidays: [{date: 2026-12-31}]\n  covers_years: [2027]\n"),
                           b=calendar("b", "  workdays: [{date: 2026-10-11}]\n  beyond_known_years: refuse\n"))
    assert ok.ok, messages(ok)
    all_days = merged(ok.bundle.of_kind("Calendar").values())
    assert set(all_days["holidays"]) == {date(2026, 12, 31)} and set(all_days["workdays"]) == {date(2026, 10, 11)}
    assert all_days["covers_years"] == (2027,) and all_days["beyond"] == "refuse"
    clash = compile_with_base(a=calendar("a", "  holidays: [{date: 2026-12-31}]\n"),
                              b=calendar("b", "  workdays: [{date: 2026-12-31}]\n"))
    assert found(clash, "b.yaml") == {("BNY210", 5, 21)} and found(clash, "a.yaml") == set()


def test_the_scaffold_and_the_shipped_calendar_are_clean(tmp_path):
    _, text = scaffold("Calendar", "bank_days", tmp_path)
    r = compile_with_base(bank_days=text)
    assert r.ok and found(r, "bank_days.yaml") == set(), messages(r)
    shipped = compile_path(ROOT / "configs")
    assert [d for d in shipped.diagnostics if "configs/calendar/" in d.span.file] == []
    cal = shipped.bundle.get("Calendar", "bank_calendar")
    assert date(2026, 12, 31) in {d.day for d in cal.holidays} and cal.beyond_known_years == "weekdays"


FLOW = """\
apiVersion: banyan/v1
kind: Flow
metadata: {name: approve}
spec:
  subject: group
  start: {}
  nodes:
    - {id: fill, type: task, assignees: initiator, deadline: 2d}
    - {id: sign, type: approval, assignees: "role('branch_head', subject.lead_branch)", deadline: %s}
    - {id: done, type: end}
"""


def test_an_approval_deadline_in_calendar_days_gets_a_hint():
    r = compile_with_base(approve=FLOW % "1d")
    hints = [d for d in r.diagnostics if d.code == "BNY510"]
    assert r.ok and len(hints) == 1 and hints[0].severity == "warning"     # a warning, not an error; tasks not flagged
    assert "counts weekends and holidays; did you mean `1 business day`?" in hints[0].message
    assert "2 business days" in [d for d in compile_with_base(approve=FLOW % "2天").diagnostics
                                 if d.code == "BNY510"][0].message
    assert "10 business days" in [d for d in compile_with_base(approve=FLOW % "2w").diagnostics
                                  if d.code == "BNY510"][0].message


def test_business_days_and_hours_get_no_hint():
    for written in ("1 business day", "2 工作日", "4h", "3 months"):
        r = compile_with_base(approve=FLOW % f"'{written}'")
        assert not [d for d in r.diagnostics if d.code == "BNY510"], (written, messages(r))
