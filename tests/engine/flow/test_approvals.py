"""Approval semantics: countersign modes, veto, four-eyes, transfer, delegate, add/remove
signer, return inside parallel branches and countersigns, withdraw, and refused commands."""
from __future__ import annotations

from engine.flow import (
    AddSigner,
    Approve,
    Cc,
    Claim,
    Comment,
    Complete,
    Delegate,
    RemoveSigner,
    Return,
    Transfer,
    Urge,
    Withdraw,
)
from engine.flow.effects import CloseTask, CreateTask, Notify

from .flow_helpers import Driver, compile_flow

ACTIONS = "[approve, reject, return, transfer, delegate, add_signer, remove_signer, urge, cc, comment]"


def vote_flow(mode: str, who: str = "role('credit_committee')", extra: str = "") -> str:
    return f"""
start: {{}}
nodes:
  - id: vote
    type: approval
    assignees: "{who}"
    countersign: {{mode: {mode}{extra}}}
    actions: {ACTIONS}
  - {{id: done, type: end, outcome: approved}}
"""


def test_any_mode_the_first_decision_counts():
    d = Driver(compile_flow(vote_flow("any")))
    d.approve("vote", "c2")
    assert d.outcome == ("finished", "approved") and not d.state.tasks
    d = Driver(compile_flow(vote_flow("any")))
    d.reject("vote", "c1")
    assert d.outcome == ("finished", "rejected")


def test_all_mode_needs_every_distinct_approval_and_one_reject_rejects():
    d = Driver(compile_flow(vote_flow("all")))
    d.approve("vote", "c1")
    d.approve("vote", "c2")
    assert d.state.running
    d.reject("vote", "c3")
    assert d.outcome == ("finished", "rejected")


def test_ratio_counts_approvals_not_completions():
    flow = compile_flow(vote_flow("ratio", extra=", pass: 2/3"))
    d = Driver(flow)
    d.approve("vote", "c1")
    d.reject("vote", "c2")          # 1 approval of 3 so far, c3 could still make it 2/3
    assert d.state.running
    d.approve("vote", "c3")
    assert d.outcome == ("finished", "approved")
    d = Driver(flow)
    d.reject("vote", "c1")
    d.reject("vote", "c2")          # 2 completions, but at most 1/3 approvals can come: rejected at once
    assert d.outcome == ("finished", "rejected")
    d = Driver(flow)
    d.approve("vote", "c1")
    d.approve("vote", "c2")         # 2/3 reached: passes without waiting for c3
    assert d.outcome == ("finished", "approved")
    assert [e.reason for e in d.effects if isinstance(e, CloseTask) and e.reason != "done"] == ["step decided"]


def test_veto_role_rejects_at_once():
    flow = compile_flow(vote_flow("ratio", extra=", pass: 1/3, veto: [chief_risk_officer]"))
    d = Driver(flow)
    d.approve("vote", "c1")         # 1/3 is reached, but the veto holder has not voted yet
    assert d.state.running and d.open() == {"vote": ["c2", "c3"]}
    d.approve("vote", "c3")
    assert d.outcome == ("finished", "approved")
    d = Driver(flow)
    d.reject("vote", "c3")          # c3 holds chief_risk_officer
    assert d.outcome == ("finished", "rejected") and d.kinds("veto")


def test_sequential_asks_one_signer_at_a_time_in_order():
    d = Driver(compile_flow(vote_flow("sequential", "[role('u3'), role('u1'), role('u2')]")))
    for user in ("u3", "u1", "u2"):
        assert d.open() == {"vote": [user]}
        d.approve("vote", user)
    assert d.outcome == ("finished", "approved")


def test_four_eyes_the_initiator_never_approves_their_own_request():
    supervisor = compile_flow(vote_flow("all", "[role('ann'), role('u1')]"))
    d = Driver(supervisor, initiator="ann")
    assert d.open() == {"vote": ["bob", "u1"]}      # if_initiator: supervisor (the default)
    skip = compile_flow(vote_flow("all", "[role('ann'), role('u1')]")
                        .replace("    actions:", "    if_initiator: skip\n    actions:"))
    d = Driver(skip, initiator="ann")
    assert d.open() == {"vote": ["u1"]}
    assert d.refused(Transfer(actor="u1", now=d.now, task=d.task("vote", "u1").id, to="ann")) == "four_eyes"
    alone = compile_flow(vote_flow("all", "role('ann')").replace("    actions:", "    if_initiator: skip\n    actions:"))
    d = Driver(alone, initiator="ann")              # skip would leave nobody: four eyes send it to ann's supervisor
    assert d.open() == {"vote": ["bob"]} and not d.kinds("skipped") and d.kinds("initiator_replaced")


def test_nobody_acts_twice_and_only_on_their_own_task():
    d = Driver(compile_flow(vote_flow("all")))
    task = d.task("vote", "c1").id
    assert d.refused(Approve(actor="c2", now=d.now, task=task)) == "not_assignee"
    d.approve("vote", "c1")
    assert d.refused(Approve(actor="c1", now=d.now, task=task)) == "unknown_task"
    assert d.refused(AddSigner(actor="c2", now=d.now, task=d.task("vote", "c2").id, users=("c1",))) \
        == "already_signer"                         # c1 has voted: cannot be brought back to vote again
    assert d.refused(Transfer(actor="c2", now=d.now, task=d.task("vote", "c2").id, to="c3")) == "already_signer"
    assert d.refused(Approve(actor="c2", now=d.now, task=d.task("vote", "c2").id, expected_version=1)) \
        == "stale_version"


def test_pool_task_claim_then_act():
    flow = compile_flow("""
start: {}
nodes:
  - {id: review, type: task, assignees: "role('credit_officer', subject.lead_branch)"}
  - {id: done, type: end}
""")
    d = Driver(flow)
    assert d.open() == {"review": [("olga", "oscar")]}
    d.claim("review", "oscar")
    assert d.open() == {"review": ["oscar"]}
    task = d.task("review").id
    assert d.refused(Claim(actor="olga", now=d.now, task=task)) == "already_claimed"
    assert d.refused(Complete(actor="olga", now=d.now, task=task)) == "not_assignee"
    d.complete("review", "oscar")
    assert d.outcome == ("finished", "done")


def test_transfer_hands_the_vote_over():
    d = Driver(compile_flow(vote_flow("all")))
    d.run(Transfer(actor="c1", now=d.now, task=d.task("vote", "c1").id, to="lee"))
    assert sorted(d.open()["vote"]) == ["c2", "c3", "lee"]
    for u in ("lee", "c2", "c3"):
        d.approve("vote", u)
    assert d.outcome == ("finished", "approved")


def test_delegate_comes_back_to_the_delegator():
    d = Driver(compile_flow(vote_flow("any")))
    d.run(Delegate(actor="c1", now=d.now, task=d.task("vote", "c1").id, to="lee"))
    assert "lee" in d.open()["vote"]
    d.approve("vote", "lee")                        # the delegate's opinion; the decision stays c1's
    assert d.state.running and "c1" in d.open()["vote"] and d.kinds("delegate_acted")
    d.approve("vote", "c1")
    assert d.outcome == ("finished", "approved")


def test_add_signer_before_holds_the_actor_until_they_sign():
    d = Driver(compile_flow(vote_flow("any", "role('u1')")))
    d.run(AddSigner(actor="u1", now=d.now, task=d.task("vote", "u1").id, users=("u2",), position="before"))
    assert d.open() == {"vote": [("held", "u1"), "u2"]}
    assert d.refused(Approve(actor="u1", now=d.now, task=d.task("vote", "u1").id)) == "task_held"
    d.approve("vote", "u2")
    assert d.open() == {"vote": ["u1"]} and d.state.running
    d.approve("vote", "u1")
    assert d.outcome == ("finished", "approved")


def test_add_signer_after_asks_them_once_the_actor_approved():
    d = Driver(compile_flow(vote_flow("any", "role('u1')")))
    d.run(AddSigner(actor="u1", now=d.now, task=d.task("vote", "u1").id, users=("u2",), position="after"))
    assert d.open() == {"vote": ["u1"]}
    d.approve("vote", "u1")
    assert d.open() == {"vote": ["u2"]} and d.state.running
    d.reject("vote", "u2")
    assert d.outcome == ("finished", "rejected")


def test_add_signer_in_parallel_makes_a_single_approval_a_countersign():
    flow = compile_flow(f"""
start: {{}}
nodes:
  - {{id: vote, type: approval, assignees: "role('u1')", actions: {ACTIONS}}}
  - {{id: done, type: end}}
""")
    d = Driver(flow)
    d.run(AddSigner(actor="u1", now=d.now, task=d.task("vote", "u1").id, users=("u2", "u3")))
    d.approve("vote", "u1")
    d.approve("vote", "u3")
    assert d.state.running
    assert d.refused(RemoveSigner(actor="u2", now=d.now, task=d.task("vote", "u2").id, user="u3")) == "cannot_remove"
    d.approve("vote", "u2")
    assert d.outcome == ("finished", "done")


PARALLEL_RETURN = f"""
start: {{}}
nodes:
  - {{id: apply, type: task, assignees: "role('u1')"}}
  - {{id: split, type: parallel, branches: [check, legal], join: meet}}
  - {{id: check, type: task, assignees: "role('u2')"}}
  - id: sign
    type: approval
    assignees: "[role('u3'), role('u4')]"
    countersign: {{mode: all}}
    actions: {ACTIONS}
    next: meet
  - {{id: legal, type: task, assignees: "role('u5')", next: meet}}
  - {{id: meet, type: join}}
  - {{id: done, type: end}}
"""


def test_return_inside_a_branch_keeps_the_join_correct():
    d = Driver(compile_flow(PARALLEL_RETURN))
    d.complete("apply", "u1")
    d.complete("check", "u2")
    d.approve("sign", "u3")                         # a countersign half done …
    d.run(Return(comment="请补充材料", actor="u4", now=d.now, task=d.task("sign", "u4").id, to="check"))
    assert sorted(d.open()) == ["check", "legal"]   # … the whole countersign goes back, legal untouched
    d.complete("legal", "u5")
    d.complete("check", "u2")
    d.approve("sign", "u3")
    d.approve("sign", "u4")                         # the join still fires, once
    assert d.outcome == ("finished", "done") and d.kinds("joined") and len(d.kinds("joined")) == 1
    assert d.created_minus_closed() == set()


def test_return_out_of_a_split_cancels_the_other_branches_once():
    d = Driver(compile_flow(PARALLEL_RETURN))
    d.complete("apply", "u1")
    d.complete("legal", "u5")                       # arrived at the join already
    d.complete("check", "u2")
    d.run(Return(comment="请补充材料", actor="u3", now=d.now, task=d.task("sign", "u3").id, to="apply"))
    assert d.open() == {"apply": ["u1"]} and not d.state.splits
    d.complete("apply", "u1")
    assert sorted(d.open()) == ["check", "legal"]   # a fresh split: no leftover, no duplicate
    for node, user in (("check", "u2"), ("legal", "u5")):
        d.complete(node, user)
    d.approve("sign", "u3")
    d.approve("sign", "u4")
    assert d.outcome == ("finished", "done") and d.created_minus_closed() == set()


def test_return_to_a_sibling_branch_or_a_later_node_is_refused():
    d = Driver(compile_flow(PARALLEL_RETURN))
    d.complete("apply", "u1")
    d.complete("check", "u2")
    sign = d.task("sign", "u3").id
    assert d.refused(Return(comment="请补充材料", actor="u3", now=d.now, task=sign, to="legal")) == "illegal_target"
    assert d.refused(Return(comment="请补充材料", actor="u3", now=d.now, task=sign, to="done")) == "illegal_target"
    assert d.refused(Return(comment="请补充材料", actor="u3", now=d.now, task=sign, to="sign")) == "illegal_target"


def test_withdraw_until_the_next_step_acts():
    d = Driver(compile_flow(PARALLEL_RETURN))
    assert d.refused(Withdraw(actor="u2", now=d.now)) == "withdraw_too_late"
    d.complete("apply", "u1")
    d.run(Withdraw(actor="u1", now=d.now))          # split undone: no branch task left behind
    assert d.open() == {"apply": ["u1"]} and not d.state.splits
    d.complete("apply", "u1")
    d.complete("legal", "u5")
    d.run(Withdraw(actor="u5", now=d.now))          # its arrival at the join is taken back
    assert sorted(d.open()) == ["check", "legal"]
    d.complete("legal", "u5")
    d.complete("check", "u2")
    d.approve("sign", "u3")
    d.approve("sign", "u4")
    assert d.outcome == ("finished", "done") and d.created_minus_closed() == set()


def test_initiator_withdraws_the_request_before_anyone_acts():
    d = Driver(compile_flow(PARALLEL_RETURN), initiator="ann")
    d.run(Withdraw(actor="ann", now=d.now))
    assert d.outcome == ("cancelled", "withdrawn") and not d.state.tasks


def test_urge_cc_comment():
    d = Driver(compile_flow(vote_flow("all")), initiator="ann")
    d.run(Urge(actor="ann", now=d.now, message="please"))
    assert sum(1 for e in d.effects if isinstance(e, Notify) and e.template == "urge") == 3
    assert d.refused(Urge(actor="c1", now=d.now)) == "not_allowed"
    d.run(Cc(actor="c1", now=d.now, users=("lee",), task=d.task("vote", "c1").id))
    assert d.state.watchers == ("lee",)
    d.run(Comment(actor="lee", now=d.now, text="noted"))
    assert d.refused(Comment(actor="zed", now=d.now, text="hi")) == "not_allowed"
    assert d.kinds("comment")[0].data["text"] == "noted"


def test_fields_permissions_and_required():
    flow = compile_flow("""
start: {}
nodes:
  - {id: review, type: task, assignees: "role('u1')", fields: {editable: [opinion], required: [opinion]}}
  - {id: done, type: end}
""")
    d = Driver(flow)
    task = d.task("review").id
    assert d.refused(Complete(actor="u1", now=d.now, task=task)) == "field_required"
    assert d.refused(Complete(actor="u1", now=d.now, task=task, fields={"amount": 1})) == "field_not_editable"
    d.complete("review", "u1", fields={"opinion": "fine"})
    assert d.state.form["opinion"] == "fine" and d.outcome == ("finished", "done")


def test_create_and_close_effects_pair_up():
    d = Driver(compile_flow(vote_flow("ratio", extra=", pass: 2/3")))
    d.approve("vote", "c1")
    d.approve("vote", "c2")
    created = [e.task for e in d.effects if isinstance(e, CreateTask)]
    assert len(created) == len(set(created)) == 3 and d.created_minus_closed() == set()


def test_removing_the_signer_others_signed_before_lets_their_votes_decide():
    # Found by the property test: u1 adds u2 "before" themself, u2 removes u1, u2 approves —
    # the step used to wait forever for u1's decision.
    from engine.flow import AddSigner, Approve, FlowContext, RemoveSigner, Start, apply

    from .flow_helpers import DIRECTORY, SUBJECT, T0, compile_flow
    actions = "[approve, reject, return, transfer, delegate, add_signer, remove_signer, comment]"
    spec = (f"start: {{first: n1}}\nnodes:\n  - {{id: n1, type: approval, assignees: \"[role('u1')]\", "
            f"next: done, actions: {actions}}}\n  - {{id: done, type: end, outcome: ok}}\n")
    flow = compile_flow(spec, "remove_before")
    ctx = FlowContext(directory=DIRECTORY, subject=SUBJECT)
    state = apply(flow, None, Start(actor="ann", now=T0, instance="p", form={"amount": 0}), ctx).state
    for cmd in (AddSigner(actor="u1", now=T0, task="p/2", users=("u2",), position="before"),
                RemoveSigner(actor="u2", now=T0, task="p/3", user="u1"),
                Approve(actor="u2", now=T0, task="p/3")):
        state = apply(flow, state, cmd, ctx).state
    assert state.status == "finished" and state.outcome == "ok" and not state.tasks


def pool_approval():
    return compile_flow(f"""
start: {{}}
nodes:
  - {{id: vote, type: approval, assignees: "role('credit_officer', subject.lead_branch)", actions: {ACTIONS}}}
  - {{id: done, type: end}}
""")


def test_add_signer_on_a_claimed_pool_approval_counts_the_claimant_not_the_pool():
    """Found by the random-commands property: a pool's other candidates hold no task, so the
    countersign that a parallel signer makes must not wait for them."""
    d = Driver(pool_approval())
    assert d.open() == {"vote": [("olga", "oscar")]}
    d.claim("vote", "oscar")
    d.run(AddSigner(actor="oscar", now=d.now, task=d.task("vote", "oscar").id, users=("u3",), position="parallel"))
    d.approve("vote", "oscar")
    assert d.open() == {"vote": ["u3"]}
    d.approve("vote", "u3")
    assert d.outcome == ("finished", "done")


def test_a_delegate_cannot_remove_the_pool_member_they_act_for():
    """Found by the property too: removing the delegator closed the only task and left the step
    waiting for the pool's other candidate, who had none."""
    d = Driver(pool_approval())
    d.run(Delegate(actor="olga", now=d.now, task=d.task("vote").id, to="u4"))      # a candidate, unclaimed
    assert d.refused(RemoveSigner(actor="u4", now=d.now, task=d.task("vote", "u4").id, user="olga")) == \
        "cannot_remove"
    d.approve("vote", "u4")                                    # the delegate's opinion goes back to olga
    assert d.open() == {"vote": ["olga"]}
    d.approve("vote", "olga")
    assert d.outcome == ("finished", "done")


def test_a_transferred_pool_task_is_the_new_holders_alone():
    d = Driver(pool_approval())
    d.run(Transfer(actor="oscar", now=d.now, task=d.task("vote").id, to="u3"))
    d.run(AddSigner(actor="u3", now=d.now, task=d.task("vote", "u3").id, users=("u4",), position="parallel"))
    d.approve("vote", "u3")
    d.approve("vote", "u4")
    assert d.outcome == ("finished", "done")                   # not waiting for olga, who has no task


POOL_THEN_NEXT = """
start: {}
nodes:
  - {id: pick, type: approval, assignees: "[role('u1'), role('u3')]",
     actions: [approve, reject, withdraw, add_signer, comment]}
  - {id: after, type: task, assignees: "role('u4')"}
  - {id: done, type: end}
"""


def test_a_pool_step_approved_without_a_claim_and_withdrawn_never_waits_for_the_other_candidates():
    """Found by the property test: u1 approves a pool task of u1/u3 without claiming it, withdraws,
    adds u2 alongside; the step (now 会签) must not wait for u3, who holds no task."""
    d = Driver(compile_flow(POOL_THEN_NEXT))
    assert d.task("pick").candidates == ("u1", "u3")
    d.approve("pick", "u1")
    d.run(Withdraw(actor="u1", now=d.now))
    assert d.open() == {"pick": ["u1"]}
    d.run(AddSigner(actor="u1", now=d.now, task=d.task("pick", "u1").id, users=("u2",), position="parallel"))
    d.approve("pick", "u1")
    d.approve("pick", "u2")
    assert list(d.open()) == ["after"]
