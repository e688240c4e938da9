"""The shipped bank bundle: the seed's org tree, roles, flows, tiering, alerts, view and tests
compile without a diagnostic in these folders, and say what the seed and NOTES.md say."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from dsl.compiler import compile_path, compile_texts
from dsl.kinds.registry import KINDS

ROOT = Path(__file__).resolve().parents[3]
MINE = ("org", "roles", "forms", "flows", "tiering", "alerts", "channels", "views", "tests")


@pytest.fixture(scope="module")
def result():
    return compile_path(ROOT / "configs")


def docs(result, kind):
    """IR of the given kind, rebuilt when other folders' problems keep the bundle from forming."""
    if result.bundle is not None:
        return {n: ir for (k, n), ir in result.bundle.documents.items() if k == kind}
    pytest.skip("the bundle has errors outside these folders: " +
                "; ".join(str(d.span) for d in result.diagnostics.errors[:3]))


def test_no_diagnostics_in_the_seed_folders(result):
    ours = [f"{d.span} {d.code} {d.message}" for d in result.diagnostics
            if any(f"configs/{m}/" in d.span.file for m in MINE)]
    assert ours == []


def test_the_org_tree_and_roles(result):
    files = {p.stem for p in (ROOT / "configs" / "org").glob("*.yaml")}
    assert {"head_office", "sh_branch", "bj_branch", "sz_branch", "gz_branch", "hz_branch", "nj_branch", "cd_branch",
            "wh_branch"} <= files and len(files) >= 15
    roles = {p.stem for p in (ROOT / "configs" / "roles").glob("*.yaml")}
    assert {"relationship_manager", "branch_head", "credit_officer", "head_office_credit", "credit_committee",
            "chief_risk_officer", "risk_manager", "legal_compliance", "group_client_manager", "product_manager",
            "admin"} <= roles


def test_the_value_matrix(result):
    matrix = docs(result, "Tiering")["group_value_matrix"]
    assert [(d.name, int(d.weight)) for d in matrix.dimensions] == [
        ("contribution", 40), ("potential", 25), ("depth", 20), ("risk", 15)]
    assert [t.name for t in matrix.tiers] == ["strategic_core", "high_potential", "stable_cooperation",
                                              "opportunity_adjustment"]
    assert all(t.service_package is not None for t in matrix.tiers)
    cap = matrix.caps[0]                 # a red alert on the group or on any member caps it
    assert cap.at_most == "opportunity_adjustment"
    assert cap.when.test({"alerts": [], "members": [{"alerts": [{"grade": "orange"}, {"grade": "red"}]}]})
    assert cap.when.test({"alerts": [{"grade": "red"}], "members": []})
    assert not cap.when.test({"alerts": [{"grade": "orange"}], "members": [{"alerts": []}]})
    assert matrix.rules[-1].when is None and matrix.hit_policy == "first"


def test_the_alert_thresholds_of_the_notes(result):
    rules = docs(result, "AlertRule")
    overdue = rules["loan_overdue"]
    grade = {g.name: g.when for g in overdue.grades}

    def raised(days):
        held = [name for name, cond in grade.items() if cond.test({"max_overdue_days": days})]
        return held[-1] if held else None
    assert [raised(d) for d in (0, 1, 30, 31, 90, 91)] == [None, "yellow", "yellow", "orange", "orange", "red"]
    assert rules["dishonest_debtor_listed"].grade_names == ("red",)
    assert rules["operating_cash_flow_negative"].grade_names == ("orange", "red")
    assert any(a.kind == "start_flow" and a.effect.flow == "major_risk_disposal"
               for a in rules["dishonest_debtor_listed"].actions)


def test_the_four_flows(result):
    flows = docs(result, "Flow")
    assert {"group_credit_approval", "cross_branch_service", "major_risk_disposal", "joint_marketing"} <= set(flows)
    committee = flows["group_credit_approval"].by_id["committee"]
    assert committee.countersign.mode == "ratio" and committee.countersign.pass_ratio == Fraction(2, 3)
    assert committee.countersign.veto_roles == ("chief_risk_officer",)
    assert flows["major_risk_disposal"].by_id["dispatch"].branches == ("risk_measures", "client_contact", "legal_review")


@pytest.mark.parametrize("kind", sorted(k for k in KINDS if k != "Entity"))
def test_each_scaffold_validates_alone(kind):
    from dsl.scaffold import scaffold
    _, text = scaffold(kind, "sample", Path("/nonexistent"))
    texts = {"sample.yaml": text}
    if kind == "AlertRule":             # a rule watches an entity's records: the scaffold's is the shipped company
        texts.update({p.name: p.read_text(encoding="utf-8") for p in (ROOT / "configs" / "entities").glob("*.yaml")})
    result = compile_texts(texts)
    assert result.ok, [f"{d.span} {d.message}" for d in result.diagnostics]
