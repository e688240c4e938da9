"""The format of saved flow state: every saved state says which format it is in, and registered
steps bring an older one up to today's before it is read (SpiffWorkflow's habit).

A change to what `codec.to_json` writes bumps `FORMAT` and registers the step from the old
format (`@step(old)`), which rewrites an old saved dict into the new shape; the golden files in
tests/engine/flow/golden/ hold one saved state per format and fail a test when the writer's
shape changes without a bump. States saved before formats were numbered carry no `format` key
and count as format 0. Not to be confused with runtime/flows/migration.py, which moves running
instances to another version of their flow."""
from __future__ import annotations

from typing import Any, Callable

from dsl.errors import BanyanError

FORMAT = 2                                   # what `to_json` writes today

Step = Callable[[dict[str, Any]], dict[str, Any]]
_STEPS: dict[int, Step] = {}


class StateFormatError(BanyanError):
    """A saved state this engine cannot read (written by a newer Banyan, or damaged)."""
    status, namespace, code = 409, "flows", "state_format"


def step(from_format: int) -> Callable[[Step], Step]:
    """Register the step that rewrites a saved state of `from_format` into `from_format + 1`."""
    def register(fn: Step) -> Step:
        if from_format in _STEPS:
            raise ValueError(f"a step from flow state format {from_format} is already registered")
        _STEPS[from_format] = fn
        return fn
    return register


def format_of(saved: dict[str, Any]) -> int:
    found = saved.get("format", 0)
    if isinstance(found, bool) or not isinstance(found, int) or found < 0:
        raise StateFormatError(f"saved flow state {saved.get('id', '?')} has format {found!r}, not a number")
    return found


def upgrade(saved: dict[str, Any]) -> dict[str, Any]:
    """`saved` in today's format (a new dict when steps ran; the same one when it is current)."""
    current = format_of(saved)
    if current > FORMAT:
        raise StateFormatError(f"saved flow state {saved.get('id', '?')} is in format {current}, written by a "
                               f"newer Banyan; this one reads formats up to {FORMAT} — upgrade Banyan")
    while current < FORMAT:
        missing = _STEPS.get(current)
        if missing is None:
            raise StateFormatError(f"no step from flow state format {current} to {current + 1}")
        saved = {**missing(dict(saved)), "format": current + 1}
        current += 1
    return saved


@step(0)
def _numbered(saved: dict[str, Any]) -> dict[str, Any]:
    """Format 0 (before formats were numbered) has today's shape; only the number is new."""
    return saved


@step(1)
def _token_back(saved: dict[str, Any]) -> dict[str, Any]:
    """Format 2: a token says where a resubmission continues (`back`, for the initiator's edit
    step); no token of an older state rests there."""
    return {**saved, "tokens": [{**t, "back": None} for t in saved.get("tokens", [])]}
