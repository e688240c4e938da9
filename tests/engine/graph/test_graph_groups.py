from engine.graph import EquityGraph, diff_membership, propose_groups


def _bank():
    return EquityGraph(
        [("王", "A", 0.7), ("A", "A1", 0.8), ("A1", "A2", 0.6), ("王", "B", 0.51),
         ("李", "C", 0.3), ("李妻", "C", 0.3), ("C", "C1", 0.9), ("D", "E", 0.2)],
        persons=["王", "李", "李妻"], relatives=[("李", "李妻")],
    )


def test_groups_by_control_common_controller_and_relatives():
    groups = {g.key: g for g in propose_groups(_bank(), relations=[("D", "E")])}
    assert groups["王"].members == ("A", "A1", "A2", "B")
    assert groups["王"].controller == ("王",)
    assert groups["李"].members == ("C", "C1")
    assert groups["李"].controller == ("李", "李妻")
    assert groups["D"].members == ("D", "E")
    chain = groups["王"].evidence["A2"].control
    assert [(e.holder, e.firm) for e in chain] == [("王", "A"), ("A", "A1"), ("A1", "A2")]
    assert groups["D"].evidence["E"].relation == ("D", "E")


def test_diff_suggests_with_evidence_and_never_edits():
    current = {"G1": {"A", "A1", "X"}, "G2": {"C"}}
    frozen = {k: set(v) for k, v in current.items()}
    out = diff_membership(propose_groups(_bank()), current)
    assert current == frozen
    joins = {(s.group, s.firm) for s in out if s.kind == "join"}
    assert joins == {("G1", "A2"), ("G1", "B"), ("G2", "C1")}
    leave = [s for s in out if s.kind == "leave"]
    assert [(s.group, s.firm) for s in leave] == [("G1", "X")]
    b = next(s for s in out if s.firm == "B")
    assert [(e.holder, e.firm) for e in b.evidence.control] == [("王", "B")]
    assert "王 -> B" in b.reason


def test_new_group_when_nothing_matches():
    out = diff_membership(propose_groups(_bank()), {})
    assert {s.kind for s in out} == {"new_group"}
    assert {s.firm for s in out} == {"A", "A1", "A2", "B", "C", "C1"}
