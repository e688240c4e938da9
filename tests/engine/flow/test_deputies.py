"""Out of office (代理) in the engine: a directory that knows who is away gives their new tasks to
the deputy, on their behalf (Task.owner + deputy); the deputy's action is final and counts as
theirs (a veto too); never to the initiator where four eyes keep them off, never twice to one
person on a countersign; a sequential signer asked later is covered too; a saved state keeps it."""
from __future__ import annotations

from engine.flow import Return, StaticDirectory
from engine.flow.effects import UpdateTask

from .flow_helpers import DIRECTORY, Driver, compile_flow
from .test_approvals import vote_flow


class AwayDirectory(StaticDirectory):
    """DIRECTORY's people, with some of them away: {user: deputy}."""

    def __init__(self, away: dict[str, str]):
        super().__init__(DIRECTORY.roles, DIRECTORY.supervisors, DIRECTORY.parents)
        self.away = away
        self.asked: list = []

    def deputy(self, user, at):
        self.asked.append((user, at))
        return self.away.get(user)


ONE = """
start: {}
nodes:
  - id: check
    type: approval
    assignees: "role('branch_head')"
    actions: [approve, reject, return]
    return_to: [initiator]
  - {id: done, type: end, outcome: approved}
"""


def test_the_deputy_gets_the_new_task_on_behalf_and_decides():
    away = AwayDirectory({"bob": "u5"})
    d = Driver(compile_flow(ONE), directory=away)
    [task] = d.state.tasks.values()
    assert (task.assignee, task.owner, task.deputy, task.signer) == ("u5", "bob", True, "bob")
    assert [e for e in d.effects if isinstance(e, UpdateTask)][-1].owner == "bob"      # the runtime's row says so
    assert d.kinds("deputised")[0].data == {"user": "bob", "deputy": "u5"} and d.kinds("deputised")[0].actor == "system"
    assert away.asked == [("bob", d.kinds("deputised")[0].at)]                           # asked at the command's time
    d.approve("check", "u5", comment="同意")
    assert d.outcome == ("finished", "approved")                                          # nothing comes back to bob
    assert d.kinds("approve")[0].data["on_behalf_of"] == "bob"


def test_without_a_deputy_method_or_anyone_away_nothing_changes():
    d = Driver(compile_flow(ONE))
    [task] = d.state.tasks.values()
    assert (task.assignee, task.owner, task.deputy) == ("bob", None, False) and not d.kinds("deputised")


def test_four_eyes_keep_the_initiator_off_even_as_a_deputy():
    d = Driver(compile_flow(ONE), initiator="ann", directory=AwayDirectory({"bob": "ann"}))
    [task] = d.state.tasks.values()
    assert (task.assignee, task.owner) == ("bob", None)
    assert d.kinds("deputy_skipped")[0].data == {"user": "bob", "deputy": "ann", "why": "initiator"}


def test_a_countersign_counts_each_person_once_and_the_absent_veto_holder_s_deputy_vetoes():
    d = Driver(compile_flow(vote_flow("ratio", extra=", pass: 2/3, veto: [chief_risk_officer]")),
               directory=AwayDirectory({"c1": "c2", "c3": "u4"}))
    assert sorted((t.assignee, t.owner) for t in d.state.tasks.values()) == [("c1", None), ("c2", None),
                                                                             ("u4", "c3")]
    assert d.kinds("deputy_skipped")[0].data["why"] == "on_step"
    d.approve("vote", "c1")
    d.approve("vote", "c2")
    assert d.state.running                                # the veto holder (through their deputy) has not voted
    d.reject("vote", "u4")
    assert d.outcome == ("finished", "rejected") and d.kinds("veto")[0].data["by"] == "c3"


def test_a_sequential_signer_asked_later_is_covered_too():
    d = Driver(compile_flow(vote_flow("sequential")), directory=AwayDirectory({"c2": "u3"}))
    d.approve("vote", "c1")
    [task] = d.state.tasks.values()
    assert (task.assignee, task.owner) == ("u3", "c2")
    d.approve("vote", "u3")
    d.approve("vote", "c3")
    assert d.outcome == ("finished", "approved")


def test_the_deputy_may_return_to_the_initiator_whose_edit_form_is_never_deputised():
    d = Driver(compile_flow(ONE), directory=AwayDirectory({"bob": "u5", "ann": "u4"}))
    d.run(Return(
        actor="u5", now=d.now, task=d.task("check", "u5").id, to="initiator", comment="补充材料"))
    [task] = d.state.tasks.values()
    assert (task.assignee, task.owner) == ("ann", None)
