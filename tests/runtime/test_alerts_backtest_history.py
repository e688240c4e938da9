"""A backtest reads fields changed in place as they stood at each month-end (issue 14, part 3):
loans written and changed at known times (the audit clock set by the test), a loan moved to
another borrower, one written late and one deleted, a company moved to another group; at every
month-end the candidate rule's grade of each company, and its roll-up onto each group, matches the
one worked out here from the timeline itself (not by Banyan). SQLite and PostgreSQL."""
from __future__ import annotations

import calendar
from datetime import date, datetime, timezone

import pytest

from dsl.bank_time import bank_timezone
from runtime.alerts import backtest as backtest_room
from runtime.alerts.backtest import backtest
from runtime.alerts.service import AlertService
from runtime.audit import log as audit
from runtime.deploy.deployments import DeploymentRegistry
from runtime.deploy.live import live_from_bundle
from runtime.deploy.releases import release_of
from runtime.records.service import Records
from runtime.records.today_rows import TodayRows
from runtime.storage.db import make_engine

from .bundles import bundle, entity

GROUP = entity("group", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true, max_length: 20}
    - {name: name, type: string, label: {en: Name}, required: true}
""")
COMPANY = entity("company", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true, max_length: 20}
    - {name: name, type: string, label: {en: Name}, required: true}
    - {name: group, type: ref(group), label: {en: Group}}
    - {name: longest, type: integer, label: {en: Longest overdue}, compute: "max(loans, l -> l.overdue_days)"}
""", extra="""
collections:
  - {name: loans, entity: loan, via: borrower, label: {en: Loans}}
""")
LOAN = entity("loan", """
    - {name: code, type: string, label: {en: Code}, required: true, unique: true, max_length: 20}
    - {name: borrower, type: ref(company), label: {en: Borrower}, required: true}
    - {name: disbursed_on, type: date, label: {en: Disbursed on}, required: true}
    - {name: overdue_days, type: integer, label: {en: Overdue days}, min: 0}
""", extra="time_field: disbursed_on")
RULE = ("overdue.yaml", """\
apiVersion: banyan/v1
kind: AlertRule
metadata: {name: overdue, label: {zh: 贷款逾期, en: Loan overdue}}
spec:
  scope: company
  category: financial
  on: [loans.updated]
  grades:
    yellow: "longest >= 1"
    orange: "longest >= 31"
    red: "longest > 90"
  message: {zh: '{{ subject.name }} 贷款逾期', en: '{{ subject.name }} has overdue loans'}
  respond_within: {yellow: 10 days, orange: 5 days, red: 2 days}
  roll_up: {to: group, grade: same}
""")


def _utc(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=bank_timezone()).astimezone(timezone.utc)


# What happens to the loans, in order: (when, loan, borrower or None to keep it, overdue days, deleted).
# The first writes are on 2025-01-10; December 2024 is before the log knew any loan.
TIMELINE = [
    ("2025-01-10", "L1", "C1", 3, False),
    ("2025-01-10", "L2", "C2", 0, False),
    ("2025-02-01", "L4", "C1", 35, False),         # L4 and L5: one bulk write (one entry holding both)
    ("2025-02-01", "L5", "C2", 0, False),
    ("2025-02-15", "L1", None, 20, False),
    ("2025-03-10", "L4", None, 35, True),          # deleted: there at February's end only
    ("2025-03-20", "L1", None, 45, False),
    ("2025-04-01", "L3", "C2", 5, False),         # written late: disbursed in January, absent until April
    ("2025-04-15", "L2", None, 95, False),
    ("2025-05-05", "L1", None, 100, False),
    ("2025-05-20", "L2", "C1", 95, False),         # moved to C1
    ("2025-06-10", "L1", None, 0, False),
    ("2025-06-30", "L2", None, 10, False),         # the last day of June, in the morning
    ("2025-07-05", "L3", None, 5, True),           # deleted: there at June's end, gone at July's
]
MOVES = [("2025-04-20", "C2", "G2")]           # a member changes group: its parent at each month-end
DISBURSED = {"L1": date(2024, 12, 1), "L2": date(2024, 11, 1), "L3": date(2025, 1, 5), "L4": date(2025, 1, 20),
             "L5": date(2025, 1, 20)}
MONTHS = ["2024-12", "2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08"]


def _grade(days: int | None) -> str | None:
    if days is None:
        return None
    return "red" if days > 90 else "orange" if days >= 31 else "yellow" if days >= 1 else None


RANK = [None, "yellow", "orange", "red"]


def _oracle() -> dict[str, dict[str, str | None]]:
    """month → company (and group) → the grade at its last day, from TIMELINE and MOVES alone;
    before the first write, the loans as first written (those disbursed by then); a group's grade is
    its worst member's then (`grade: same`)."""
    first = min(when for when, *_ in TIMELINE)
    out = {}
    for month in MONTHS:
        y, m = (int(p) for p in month.split("-"))
        end = f"{month}-{calendar.monthrange(y, m)[1]}"
        state: dict[str, tuple[str, int]] = {}
        firsts: dict[str, tuple[str, int]] = {}
        for when, loan, borrower, days, deleted in TIMELINE:
            held = state.get(loan) or firsts.get(loan)
            now = (borrower or (held[0] if held else ""), days)
            firsts.setdefault(loan, now)
            if when <= end:
                if deleted:
                    state.pop(loan, None)
                else:
                    state[loan] = now
        if end < first:
            state = {loan: s for loan, s in firsts.items() if DISBURSED[loan].isoformat() <= end}
        longest: dict[str, int] = {}
        for borrower, days in state.values():
            longest[borrower] = max(longest.get(borrower, 0), days)
        out[month] = {c: _grade(longest.get(c)) for c in ("C1", "C2")}
        member_of = {"C1": "G1", "C2": "G1", **{c: g for when, c, g in MOVES if when <= end}}
        for group in ("G1", "G2"):
            out[month][group] = RANK[max((RANK.index(out[month][c]) for c, g in member_of.items() if g == group),
                                         default=0)]
    return out


@pytest.fixture
def bank(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    engine = make_engine(db_url)
    deployed = bundle(GROUP, COMPANY, LOAN)
    reg = DeploymentRegistry(engine)
    out = reg.deploy(release_of(deployed), author="test")
    records = Records(engine, live_from_bundle(deployed, out.version, reg.current().model))
    yield engine, records, monkeypatch
    engine.dispose()


def test_the_backtest_reads_each_loan_as_it_stood_at_every_month_end(bank):
    engine, records, monkeypatch = bank
    clock = {"now": _utc("2025-01-10", 9)}
    monkeypatch.setattr(audit, "utc_now", lambda: clock["now"])     # the audit clock (and the rows' times)
    for code in ("G1", "G2"):
        records.create("group", {"code": code, "name": f"{code}集团"}, actor="ann")
    records.create("company", {"code": "C1", "name": "甲公司", "group": "G1"}, actor="ann")
    records.create("company", {"code": "C2", "name": "乙公司", "group": "G1"}, actor="ann")
    written = set()
    for when, loan, borrower, days, deleted in sorted(TIMELINE + [(w, c, g, -1, False) for w, c, g in MOVES]):
        clock["now"] = _utc(when)
        if days < 0:
            records.update("company", records.find("company", loan)["id"], {"group": borrower}, actor="ann")
            continue
        if deleted:
            records.delete("loan", records.find("loan", loan)["id"], actor="ann")
        elif loan not in written:
            new = [(ln, b, d) for w, ln, b, d, _ in TIMELINE if w == when and ln not in written]
            records.bulk_create("loan", [{"code": ln, "borrower": b, "disbursed_on": DISBURSED[ln], "overdue_days": d}
                                         for ln, b, d in new], actor="ann")
            written |= {ln for ln, _, _ in new}
        else:
            changes = {"overdue_days": days, **({"borrower": borrower} if borrower else {})}
            records.update("loan", records.find("loan", loan)["id"], changes, actor="ann")
    monkeypatch.undo()
    service = AlertService(engine, records=records)
    done = backtest(service, bundle(GROUP, COMPANY, LOAN, RULE), start=MONTHS[0], end=MONTHS[-1], rule_names=["overdue"])
    got: dict[str, dict[str, str | None]] = {m: dict.fromkeys(("C1", "C2", "G1", "G2")) for m in MONTHS}
    for c in done.changes:                     # the rule is new: every alert it raises "opens"
        assert (c.kind, c.deployed, c.entity, c.roll_up) == ("opens", None, "group" if c.roll_up else "company",
                                                             c.key.startswith("G"))
        got[c.month.isoformat()[:7]][c.key] = c.candidate
    expected = _oracle()
    assert got == expected
    # the timeline reaches every grade, a move, a late write and a deletion: the oracle is not trivial
    assert {g for month in expected.values() for g in month.values()} == {None, "yellow", "orange", "red"}
    assert expected["2025-01"]["C1"] == "yellow" and expected["2025-02"]["C1"] == "orange"       # L4 in February only
    assert expected["2025-03"] == {"C1": "orange", "C2": None, "G1": "orange", "G2": None}
    assert expected["2025-04"] == {"C1": "orange", "C2": "red", "G1": "orange", "G2": "red"}
    assert expected["2025-05"] == {"C1": "red", "C2": "yellow", "G1": "red", "G2": "yellow"}
    assert expected["2025-07"] == {"C1": "yellow", "C2": None, "G1": "yellow", "G2": None}
    # today's rows kept for every month-end, or only some of them, or none: the same answer
    for limit in (0, 3):
        monkeypatch.setattr(backtest_room, "TodayRows", lambda live, limit=limit: TodayRows(live, limit=limit))
        again = backtest(service, bundle(GROUP, COMPANY, LOAN, RULE), start=MONTHS[0], end=MONTHS[-1],
                         rule_names=["overdue"])
        assert again.changes == done.changes
    # today's values alone would say C1 and G1 yellow, C2 and G2 nothing, in every month
    assert any(month != {"C1": "yellow", "C2": None, "G1": "yellow", "G2": None} for month in got.values())
