"""Tiering one subject (engine/tiering): dimension scores, the weighted score, each DMN hit
policy, caps (the lowest tier that a holding cap allows), and subjects the data cannot tier."""
from __future__ import annotations

from decimal import Decimal

import pytest

from engine.tiering import Hit, TableProblem, apply_policy, tier_subject
from engine.tiering.explain import explain
from tests.dsl.kinds.kinds_helpers import compile_with_base
from tests.dsl.kinds.test_tiering import TIERING

RANK = {"core": 0, "middle": 1, "other": 2}.__getitem__


def _tiering(text: str = TIERING):
    result = compile_with_base(matrix=text)
    assert result.ok, [d.message for d in result.diagnostics]
    return result.bundle.documents[("Tiering", "matrix")]


def _subject(credit: int | None, outlook: str | None) -> dict:
    return {"credit": credit, "outlook": outlook, "subject": {"credit": credit, "outlook": outlook}}


def test_scores_weigh_into_score_and_the_first_rule_that_holds_decides():
    t = _tiering()
    r = tier_subject(t, _subject(2 * 10**8, "strong"))
    assert [(d.name, d.value) for d in r.dimensions] == [("value", 50), ("outlook", 90)]
    assert r.score == Decimal(50) * 60 / 100 + Decimal(90) * 40 / 100
    assert (r.tier, r.table_tier, r.decisive_rule.index) == ("core", "core", 0)
    assert [c.held for c in r.rules] == [True, None]          # `first`: the rows after the hit are not evaluated
    assert [c.held for c in tier_subject(t, _subject(2 * 10**8, "strong"), every_rule=True).rules] == [True, True]
    low = tier_subject(t, _subject(10**7, "strong"))
    assert (low.tier, low.decisive_rule.index, low.rules[0].held) == ("other", 1, False)


def test_a_red_alert_caps_the_tier_and_says_why():
    t = _tiering(TIERING.replace("at_most: other}", "at_most: other, reason: {zh: 红色预警封顶, en: red caps}}"))
    r = tier_subject(t, _subject(2 * 10**8, "strong"), alert_grade="red")
    assert (r.table_tier, r.tier, r.decisive_cap.index) == ("core", "other", 0)
    assert r.reason.en == "red caps" and r.reason.zh == "红色预警封顶"
    assert tier_subject(t, _subject(2 * 10**8, "strong"), alert_grade="orange").tier == "core"


def test_a_dimension_that_is_null_leaves_the_subject_untiered():
    r = tier_subject(_tiering(), _subject(2 * 10**8, None))      # band(null) is null
    assert (r.tier, r.problem) == (None, "dimension_failed")
    assert [d.value for d in r.dimensions] == [50, None]


@pytest.mark.parametrize("policy, aggregate, hits, expected", [
    ("first", None, [Hit(1, "other"), Hit(2, "core")], ("other", (1,))),
    ("rule_order", None, [Hit(1, "other"), Hit(2, "core")], ("other", (1,))),
    ("priority", None, [Hit(0, "other"), Hit(2, "core"), Hit(3, "middle")], ("core", (2,))),
    ("collect", "min", [Hit(0, "middle"), Hit(1, "core"), Hit(2, "other")], ("other", (2,))),
    ("collect", "max", [Hit(0, "middle"), Hit(1, "core")], ("core", (1,))),
    ("unique", None, [Hit(3, "middle")], ("middle", (3,))),
    ("any", None, [Hit(0, "middle"), Hit(3, "middle")], ("middle", (0, 3))),
])
def test_hit_policies(policy, aggregate, hits, expected):
    assert apply_policy(policy, aggregate, hits, RANK) == expected


@pytest.mark.parametrize("policy, hits, code", [
    ("first", [], "no_rule"),
    ("unique", [Hit(0, "core"), Hit(2, "core")], "not_unique"),
    ("any", [Hit(0, "core"), Hit(2, "other")], "disagree"),
])
def test_hits_a_policy_refuses(policy, hits, code):
    with pytest.raises(TableProblem) as refused:
        apply_policy(policy, None, hits, RANK)
    assert refused.value.code == code and refused.value.rules == tuple(h.place for h in hits)


def test_unweighted_tables_have_no_score():
    t = _tiering(TIERING.replace("weight: 60, ", "").replace("weight: 40, ", ""))
    r = tier_subject(t, _subject(2 * 10**8, "strong"))
    assert r.score is None and r.tier == "core"


def test_explain_traces_each_rule_and_names_the_near_miss():
    e = explain(_tiering(), _subject(10**8 // 2, "strong"))
    assert e.result.tier == "other"
    first = e.rules[0]
    assert first.trace is not None and first.trace.value is False
    assert [(n.left, n.threshold) for n in first.near] == [("value", 50)]
    assert e.rules[1].trace is None                      # the catch-all: no condition


def test_whatif_lists_the_moves_and_counts_from_each_tier_to_each():
    from engine.tiering.whatif import UNTIERED, compare
    cmp = compare({"G1": "core", "G2": "other", "G3": None, "G4": "other"},
                  {"G1": "core", "G2": "core", "G3": "other", "G4": "other"})
    assert [(m.subject, m.before, m.after) for m in cmp.moves] == [("G2", "other", "core"), ("G3", None, "other")]
    assert cmp.matrix == {("core", "core"): 1, ("other", "core"): 1, (UNTIERED, "other"): 1, ("other", "other"): 1}
    assert cmp.counts("after") == {"core": 2, "other": 2} and cmp.subjects == 4


def test_a_review_is_due_every_review_every_of_the_tier():
    from datetime import datetime, timedelta, timezone

    from engine.tiering.reviews import review_due, review_form

    class Days:                                   # a calendar that counts months as 30 days
        def add(self, start, amount, unit):
            return start + timedelta(days=amount * (30 if unit == "months" else 1))
    t = _tiering()
    core = t.tiers[0]                              # review_every: 1 month
    now = datetime(2026, 7, 1, tzinfo=timezone.utc)
    assert review_due(core.service_package, None, now, Days())
    assert not review_due(core.service_package, now - timedelta(days=29), now, Days())
    assert review_due(core.service_package, now - timedelta(days=30), now, Days())
    assert not review_due(t.tiers[1].service_package, None, now, Days())        # no package: never
    assert review_form(core) == {"tier": "core", "service_package": "", "lead_role": "branch_head"}
