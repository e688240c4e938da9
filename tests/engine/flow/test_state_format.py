"""Saved flow state carries its format; an older saved state is brought up to date by a
registered step; the golden files hold one saved state per format (SpiffWorkflow's habit).

`golden/state_format_0.json` is a state as Banyan saved it before formats were numbered;
`golden/state_format_<FORMAT>.json` is what `to_json` writes today. A change to the writer's
shape fails `test_the_writer_matches_the_golden_file_of_its_format` until FORMAT is bumped, a
step from the old format is registered, and a golden file of the new format is added."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from engine.flow import FlowInstance, Handoff, Split, Step, Task, Timer, Token, from_json, to_json
from engine.flow.state_format import FORMAT, StateFormatError, format_of, step, upgrade

GOLDEN = Path(__file__).parent / "golden"
AT = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


def saved_instance() -> FlowInstance:
    """A countersign step in a parallel branch, a held task, timers and a handoff: every part a state has."""
    return FlowInstance(
        id="a1b2c3d4e5f6", flow="group_credit_approval", initiator="u1", started_at=AT, version=7, seq=12,
        form={"amount": Decimal("300000000.00"), "due": date(2026, 6, 30), "share": Fraction(2, 3),
              "reviewer": {"$ref": "u2"}, "notes": ["first", None, True], "opened": AT},
        tokens={"t1": Token("t1", "branch_review", (("s1", "branch_review"),),
                            Step("all", ("u2", "u3"), ("u4",), (("u2", "approve"),)),
                            True, AT),
                "t2": Token("t2", "legal_review", (("s1", "legal_review"),))},
        tasks={"k1": Task("k1", "t1", "branch_review", "u3", ("u3",), "u5", False, None, ("u4",)),
               "k2": Task("k2", "t1", "branch_review", None, ("u2", "u4"), None, True, "k1"),
               "k3": Task("k3", "t2", "legal_review", "ann")},
        splits={"s1": Split("s1", "reviews", "reviews_done", 2, (), 1, False)},
        timers={"m1": Timer("m1", "t1", "deadline", AT, 0), "m2": Timer("m2", "t1", "escalate", AT, 2)},
        handoffs=(Handoff("committee", ("u2",), (), Step("any", ("bob",)), ("t1",), ("t2",), ("s1",)),),
        watchers=("bob",))


def golden(fmt: int) -> dict:
    return json.loads((GOLDEN / f"state_format_{fmt}.json").read_text(encoding="utf-8"))


def test_the_writer_matches_the_golden_file_of_its_format():
    written = json.loads(json.dumps(to_json(saved_instance())))
    assert written["format"] == FORMAT
    assert written == golden(FORMAT), ("to_json changed the shape of saved flow state: bump FORMAT in "
                                       "engine/flow/state_format.py, register a step from the old format and "
                                       "add golden/state_format_<new>.json")


@pytest.mark.parametrize("fmt", range(FORMAT + 1))
def test_every_golden_format_loads_as_the_same_instance(fmt):
    assert from_json(golden(fmt)) == saved_instance()


def test_a_state_saved_before_formats_is_upgraded_by_the_registered_step():
    old = golden(0)
    assert "format" not in old and format_of(old) == 0
    assert upgrade(old) == golden(FORMAT)
    assert "format" not in old                              # the saved dict itself is left alone


def test_a_current_state_passes_through_unchanged():
    current = golden(FORMAT)
    assert upgrade(current) is current


def test_a_state_from_a_newer_banyan_is_refused_with_a_clear_error():
    newer = {**golden(FORMAT), "format": FORMAT + 1}
    with pytest.raises(StateFormatError, match="newer Banyan") as info:
        from_json(newer)
    assert info.value.code == "state_format" and info.value.status == 409


@pytest.mark.parametrize("bad", ["1", -1, 1.5, True, None])
def test_a_format_that_is_not_a_number_is_refused(bad):
    with pytest.raises(StateFormatError, match="not a number"):
        upgrade({**golden(FORMAT), "format": bad})


def test_a_step_is_registered_once_per_format():
    with pytest.raises(ValueError, match="already registered"):
        step(0)(lambda saved: saved)
