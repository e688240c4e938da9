"""The workflow control-flow patterns (van der Aalst et al.), each with its expected path."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from engine.flow import AddSigner, Cancel, EventOccurred, RemoveSigner, TimerFired, Withdraw
from engine.flow.effects import CloseTask

from .flow_helpers import Driver, compile_flow

SEQUENCE = """
start: {}
nodes:
  - {id: a, type: task, assignees: "role('u1')"}
  - {id: b, type: task, assignees: "role('u2')"}
  - {id: c, type: task, assignees: "role('u3')"}
  - {id: done, type: end}
"""

PARALLEL = """
start: {}
nodes:
  - {id: a, type: task, assignees: "role('u1')"}
  - {id: split, type: parallel, branches: [b, c, d], join: meet}
  - {id: b, type: task, assignees: "role('u2')", next: meet}
  - {id: c, type: task, assignees: "role('u3')", next: meet}
  - {id: d, type: task, assignees: "role('u4')", next: meet}
  - {id: meet, type: join, wait: %s}
  - {id: e, type: task, assignees: "role('u5')"}
  - {id: done, type: end}
"""


def test_sequence():
    d = Driver(compile_flow(SEQUENCE))
    for node, user in (("a", "u1"), ("b", "u2"), ("c", "u3")):
        assert list(d.open()) == [node]
        d.complete(node, user)
    assert d.path == ["a", "b", "c"] and d.outcome == ("finished", "done")


def test_parallel_split_and_synchronization():
    d = Driver(compile_flow(PARALLEL % "all"))
    d.complete("a", "u1")
    assert sorted(d.open()) == ["b", "c", "d"]                       # parallel split
    d.complete("c", "u3")
    d.complete("b", "u2")
    assert list(d.open()) == ["d"]                                   # synchronization waits for all
    d.complete("d", "u4")
    assert list(d.open()) == ["e"] and d.path == ["a", "b", "c", "d", "e"]
    d.complete("e", "u5")
    assert d.outcome == ("finished", "done") and not d.state.splits


def test_discriminator_fires_on_the_first_and_cancels_the_rest():
    d = Driver(compile_flow(PARALLEL % "any"))
    d.complete("a", "u1")
    d.complete("d", "u4")
    assert list(d.open()) == ["e"]                                   # fired once, on the first arrival
    cancelled = {e.task for e in d.effects if isinstance(e, CloseTask) and e.reason == "join passed"}
    assert len(cancelled) == 2 and not d.state.splits
    d.complete("e", "u5")
    assert d.outcome == ("finished", "done") and d.path.count("e") == 1


def test_n_out_of_m_join():
    d = Driver(compile_flow(PARALLEL % "2"))
    d.complete("a", "u1")
    d.complete("b", "u2")
    assert sorted(d.open()) == ["c", "d"]
    d.complete("d", "u4")
    assert list(d.open()) == ["e"]                                   # 2 of 3 arrived: it fires


BRANCH = """
start: {}
nodes:
  - id: route
    type: branch
    cases:
      - {when: "form.amount > 1000万", goto: big}
      - {when: "form.urgent", goto: fast}
    default: small
  - {id: big, type: task, assignees: "role('u1')", next: merge}
  - {id: fast, type: task, assignees: "role('u2')", next: merge}
  - {id: small, type: task, assignees: "role('u3')", next: merge}
  - {id: merge, type: task, assignees: "role('u4')"}
  - {id: done, type: end}
"""


def test_exclusive_choice_and_simple_merge():
    flow = compile_flow(BRANCH)
    for form, first in (({"amount": 2 * 10**7, "urgent": True}, "big"),   # the first true case wins
                        ({"amount": 10**6, "urgent": True}, "fast"),
                        ({"amount": None, "urgent": None}, "small"),     # null conditions are false
                        ({"amount": 10**6, "urgent": False}, "small")):
        d = Driver(flow, form=form)
        d.complete(first)
        d.complete("merge", "u4")                                     # simple merge: one path in
        assert d.path == [first, "merge"] and d.outcome == ("finished", "done")


INCLUSIVE = """
start: {}
nodes:
  - id: fan
    type: inclusive
    cases:
      - {when: "form.urgent", goto: x}
      - {when: "form.legal", goto: y}
      - {when: "form.amount > 100", goto: z}
    default: x
    join: meet
  - {id: x, type: task, assignees: "role('u1')", next: meet}
  - {id: y, type: task, assignees: "role('u2')", next: meet}
  - {id: z, type: task, assignees: "role('u3')", next: meet}
  - {id: meet, type: join}
  - {id: after, type: task, assignees: "role('u4')"}
  - {id: done, type: end}
"""


def test_multi_choice_and_structured_synchronizing_merge():
    flow = compile_flow(INCLUSIVE)
    d = Driver(flow, form={"urgent": False, "legal": True, "amount": 500})
    assert sorted(d.open()) == ["y", "z"]                            # every true case fires
    d.complete("z", "u3")
    assert list(d.open()) == ["y"]                                   # the join waits only for the fired ones
    d.complete("y", "u2")
    assert list(d.open()) == ["after"]
    d = Driver(flow, form={"urgent": False, "legal": False, "amount": 1})
    assert list(d.open()) == ["x"]                                   # none true: the default alone
    d.complete("x", "u1")
    assert list(d.open()) == ["after"]


MULTI_MERGE = """
start: {}
nodes:
  - {id: split, type: parallel, branches: [a, b], join: meet}
  - {id: a, type: task, assignees: "role('u1')", next: d}
  - {id: b, type: task, assignees: "role('u2')", next: meet}
  - {id: d, type: task, assignees: "role('u3')", next: meet}
  - {id: meet, type: join}
  - {id: done, type: end}
"""


def test_multi_merge_runs_the_merged_step_once_per_path():
    """Verification refuses a multi-merge before a join (BNY504: the join could count one path
    twice), so the IR is edited after compile to show what the engine does with one: each path
    runs `d` once, and the join counts both."""
    flow = compile_flow(MULTI_MERGE)
    flow = replace(flow, nodes=tuple(replace(n, next="d") if n.id == "b" else n for n in flow.nodes))
    d = Driver(flow)
    d.complete("a", "u1")
    d.complete("b", "u2")
    assert d.open() == {"d": ["u3", "u3"]}                          # two activations of d
    d.complete("d", "u3")
    assert d.state.running
    d.complete("d", "u3")
    assert d.outcome == ("finished", "done") and d.path.count("d") == 2


CYCLE = """
start: {}
nodes:
  - {id: draft, type: task, assignees: "role('ann')", fields: {editable: [amount]}}
  - {id: check, type: approval, assignees: "role('bob')", on_reject: draft}
  - id: again
    type: branch
    cases:
      - {when: "form.amount > 100", goto: draft}
    default: done
  - {id: done, type: end}
"""


def test_arbitrary_cycles():
    d = Driver(compile_flow(CYCLE))
    d.complete("draft", "ann", fields={"amount": 500})
    d.reject("check", "bob")                                        # back through on_reject
    d.complete("draft", "ann", fields={"amount": 200})
    d.approve("check", "bob")                                       # back through the branch
    d.complete("draft", "ann", fields={"amount": 50})
    d.approve("check", "bob")
    assert d.path == ["draft", "check"] * 3 and d.outcome == ("finished", "done")


def test_implicit_termination_when_nothing_is_left():
    """Every end node terminates (see engine/README.md); an instance whose last path ends has
    nothing left: no tokens, tasks, splits or timers, and nothing was cancelled."""
    d = Driver(compile_flow(PARALLEL % "all"))
    for node, user in (("a", "u1"), ("b", "u2"), ("c", "u3"), ("d", "u4"), ("e", "u5")):
        d.complete(node, user)
    s = d.state
    assert (s.status, s.tokens, s.tasks, s.splits, s.timers) == ("finished", {}, {}, {}, {})
    assert not [e for e in d.effects if isinstance(e, CloseTask) and e.reason != "done"]


EXPLICIT = """
start: {}
nodes:
  - {id: split, type: parallel, branches: [a, b], join: meet}
  - id: a
    type: approval
    assignees: "role('u1')"
    next: meet
  - {id: b, type: task, assignees: "role('u2')", next: meet}
  - {id: meet, type: join}
  - {id: done, type: end}
"""


def test_explicit_termination_cancels_open_work():
    d = Driver(compile_flow(EXPLICIT))
    d.reject("a", "u1")                                             # no on_reject: the flow ends `rejected`
    assert d.outcome == ("finished", "rejected")
    assert [e.reason for e in d.effects if isinstance(e, CloseTask) and e.task != d.kinds("reject")[0].task] \
        == ["request rejected"]
    assert not d.state.tasks and not d.state.splits


MI = """
start: {}
nodes:
  - id: vote
    type: approval
    assignees: "%s"
    countersign: {mode: all}
    actions: [approve, reject, add_signer, remove_signer, comment]
  - {id: done, type: end, outcome: approved}
"""


def test_multi_instance_with_design_time_knowledge():
    d = Driver(compile_flow(MI % "[role('u1'), role('u2'), role('u3')]"))
    assert d.open() == {"vote": ["u1", "u2", "u3"]}
    for u in ("u2", "u3", "u1"):
        d.approve("vote", u)
    assert d.outcome == ("finished", "approved")


def test_multi_instance_with_run_time_knowledge():
    d = Driver(compile_flow(MI % "role('credit_committee')"))        # as many as hold the role today
    assert d.open() == {"vote": ["c1", "c2", "c3"]}
    d.approve("vote", "c1")
    d.run(AddSigner(actor="c2", now=d.now, task=d.task("vote", "c2").id, users=("lee",)))  # no a-priori knowledge
    d.approve("vote", "c2")
    d.approve("vote", "c3")
    assert d.state.running and d.open() == {"vote": ["lee"]}
    d.approve("vote", "lee")
    assert d.outcome == ("finished", "approved")


DEFERRED = """
start: {}
nodes:
  - id: watch
    type: wait
    event: filing.created
    where: "event.score > 50"
    deadline: 3d
    on_timeout: {goto: chase}
    next: review
  - {id: review, type: task, assignees: "role('u1')", next: done}
  - {id: chase, type: task, assignees: "role('u2')", next: done}
  - {id: done, type: end}
"""


def test_deferred_choice_event_or_time():
    flow = compile_flow(DEFERRED)
    d = Driver(flow)
    assert d.refused(EventOccurred(actor="system", now=d.now, event="filing.created", record={"score": 10})) \
        == "not_waiting"
    d.run(EventOccurred(actor="system", now=d.now, event="filing.created", record={"score": 90}))
    assert list(d.open()) == ["review"] and not d.state.timers       # the event won; its timer is cleared
    d = Driver(flow)
    (timer,) = d.state.timers.values()
    assert timer.at == d.state.started_at + timedelta(days=3)
    d.run(TimerFired(actor="system", now=timer.at, timer=timer.id))
    assert list(d.open()) == ["chase"]                               # time won


MILESTONE = """
start: {}
nodes:
  - {id: a, type: approval, assignees: "role('u1')"}
  - {id: b, type: approval, assignees: "role('u2')", actions: [approve, reject, add_signer]}
  - {id: done, type: end}
"""


def test_milestone_withdraw_only_while_the_next_step_is_untouched():
    flow = compile_flow(MILESTONE)
    d = Driver(flow)
    d.approve("a", "u1")
    d.run(Withdraw(actor="u1", now=d.now))                          # milestone: b has not acted yet
    assert list(d.open()) == ["a"]
    d.approve("a", "u1")
    d.approve("b", "u2")
    assert d.outcome == ("finished", "done")
    d = Driver(flow)
    d.approve("a", "u1")
    d.run(AddSigner(actor="u2", now=d.now, task=d.task("b", "u2").id, users=("u3",), position="after"))
    assert d.refused(Withdraw(actor="u1", now=d.now)) == "withdraw_too_late"   # milestone passed


def test_cancel_task_and_cancel_case():
    d = Driver(compile_flow(MI % "[role('u1'), role('u2'), role('u3')]"))
    d.run(RemoveSigner(actor="u1", now=d.now, task=d.task("vote", "u1").id, user="u3"))   # cancel one task
    assert d.open() == {"vote": ["u1", "u2"]}
    d.approve("vote", "u1")
    d.run(Cancel(actor="ann", now=d.now))                           # cancel the case
    assert d.outcome == ("cancelled", "cancelled") and not d.state.tasks
    assert d.created_minus_closed() == set()
