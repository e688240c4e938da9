"""Property-based tests: random command sequences on random valid flows never leave an
instance stuck, never lose or duplicate a task, and a JSON save/restore between any two
steps changes nothing (the driver checks the round trip after every command)."""
from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.flow import CommandRejected, FlowContext, Start, apply, from_json, to_json
from engine.flow.effects import CloseTask, CreateTask

from .flow_helpers import DIRECTORY, SUBJECT, T0, compile_flow
from .random_flows import candidates, flows, progress


def _check(flow, state, open_tasks: set[str]) -> None:
    """Invariants after every accepted command."""
    assert set(state.tasks) == open_tasks                                   # no task lost or invented
    assert from_json(json.loads(json.dumps(to_json(state)))) == state        # save/restore changes nothing
    if not state.running:
        assert not state.tasks and not state.tokens and not state.timers
        return
    assert state.tokens, "a running instance with nothing to do"
    for token in state.tokens.values():
        tasks = [t for t in state.tasks.values() if t.token == token.id]
        if token.step is not None:
            signers = [t.signer for t in tasks]
            assert len(signers) == len(set(signers)), "one person holds two tasks of one step"
            assert any(not t.held for t in tasks), f"step {token.node} has no task anyone can act on"
            assert not {u for u, _ in token.step.votes} & set(signers), "someone could act twice"
    for t in state.tasks.values():
        assert t.token in state.tokens


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                                 HealthCheck.data_too_large])
@given(spec=flows(), amount=st.sampled_from([0, 50, 150, 250]), data=st.data())
def test_random_commands_never_stick_lose_or_duplicate(spec, amount, data):
    flow = compile_flow(spec, "r")                  # every generated flow verifies clean
    ctx = FlowContext(directory=DIRECTORY, subject=SUBJECT)
    now = T0
    result = apply(flow, None, Start(actor="ann", now=now, instance="p", form={"amount": amount}), ctx)
    state, open_tasks = result.state, set()

    def book(effects):
        for e in effects:
            if isinstance(e, CreateTask):
                assert e.task not in open_tasks, "a task created twice"
                open_tasks.add(e.task)
            elif isinstance(e, CloseTask):
                open_tasks.remove(e.task)                                   # closing an unknown task fails here

    book(result.effects)
    _check(flow, state, open_tasks)
    for _ in range(data.draw(st.integers(0, 25), label="steps")):
        if not state.running:
            break
        now += timedelta(hours=data.draw(st.sampled_from([0, 1, 30]), label="wait"))
        options = candidates(flow, state, now)
        cmd = data.draw(st.sampled_from(options), label="command")
        try:
            result = apply(flow, state, cmd, ctx)
        except CommandRejected:
            continue                                                        # refused: state untouched by design
        state = result.state
        book(result.effects)
        _check(flow, state, open_tasks)
    for _ in range(400):                                                    # never stuck: progress ends it
        if not state.running:
            break
        cmd = progress(flow, state, now)
        assert cmd is not None, f"stuck at {[t.node for t in state.tokens.values()]}"
        now += timedelta(minutes=1)
        result = apply(flow, state, cmd, ctx)
        state = result.state
        book(result.effects)
        _check(flow, state, open_tasks)
    assert not state.running and not open_tasks


@settings(max_examples=15, deadline=None)
@given(spec=flows(), data=st.data())
def test_a_refused_command_changes_nothing(spec, data):
    flow = compile_flow(spec, "r")
    ctx = FlowContext(directory=DIRECTORY, subject=SUBJECT)
    state = apply(flow, None, Start(actor="ann", now=T0, instance="p", form={"amount": 100}), ctx).state
    snapshot = json.dumps(to_json(state), sort_keys=True)
    cmd = data.draw(st.sampled_from(candidates(flow, state, T0)))
    stale = type(cmd)(**{**cmd.__dict__, "expected_version": state.version + 1})
    try:
        apply(flow, state, stale, ctx)
        raise AssertionError("a stale command was accepted")
    except CommandRejected as exc:
        assert exc.code == "stale_version"
    assert json.dumps(to_json(state), sort_keys=True) == snapshot
