"""From an action name and its parameters (API body, CLI options) to an engine command, checked:
an unknown action, a missing or unknown parameter, or a value of the wrong shape is a 422
before anything is read or written."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Mapping

from engine.flow import (
    AddSigner,
    Approve,
    Cancel,
    Cc,
    Claim,
    Comment,
    Complete,
    Delegate,
    EventOccurred,
    Reject,
    RemoveSigner,
    Resubmit,
    Return,
    Transfer,
    Urge,
    Withdraw,
)
from runtime.flows.store import FlowError

ACTIONS: dict[str, type] = {
    "claim": Claim, "approve": Approve, "reject": Reject, "complete": Complete, "return": Return,
    "transfer": Transfer, "delegate": Delegate, "add_signer": AddSigner, "remove_signer": RemoveSigner,
    "withdraw": Withdraw, "urge": Urge, "cc": Cc, "comment": Comment, "cancel": Cancel, "event": EventOccurred,
    "resubmit": Resubmit,
}
COMMON = {"actor", "now", "expected_version"}
_TUPLES = {"users"}
_MAPPINGS = {"fields", "record", "form"}
POSITIONS = ("before", "after", "parallel")


def parameters(action: str) -> dict[str, bool]:
    """{parameter: required} of an action."""
    cls = _action(action)
    return {f.name: f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            for f in dataclasses.fields(cls) if f.name not in COMMON}


def _action(action: str) -> type:
    cls = ACTIONS.get(action)
    if cls is None:
        raise FlowError("unknown_action", f"`{action}` is not a flow action; use one of: {', '.join(ACTIONS)}")
    return cls


def build(action: str, params: Mapping[str, Any], *, actor: str, now: datetime,
          expected_version: int | None = None) -> Any:
    cls = _action(action)
    wanted = parameters(action)
    given = {k: v for k, v in params.items() if v is not None}
    unknown = sorted(set(given) - set(wanted))
    if unknown:
        raise FlowError("invalid", f"`{action}` takes {', '.join(wanted) or 'no parameters'}; "
                                   f"not {', '.join(unknown)}")
    missing = [k for k, req in wanted.items() if req and k not in given]
    if missing:
        raise FlowError("invalid", f"`{action}` needs {', '.join(missing)}")
    values: dict[str, Any] = {}
    for key, value in given.items():
        if key in _TUPLES:
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, (list, tuple)) or not value or not all(isinstance(u, str) and u for u in value):
                raise FlowError("invalid", f"`{key}` must be a non-empty list of user names")
            value = tuple(value)
        elif key in _MAPPINGS:
            if not isinstance(value, Mapping):
                raise FlowError("invalid", f"`{key}` must be an object of field values")
            value = dict(value)
        elif not isinstance(value, str) or not value.strip():
            raise FlowError("invalid", f"`{key}` must be a non-empty text")
        values[key] = value
    if action == "add_signer" and values.get("position", "parallel") not in POSITIONS:
        raise FlowError("invalid", f"position must be one of {', '.join(POSITIONS)}")
    if expected_version is not None and (isinstance(expected_version, bool) or not isinstance(expected_version, int)):
        raise FlowError("invalid", "expected_version must be a whole number")
    return cls(actor=actor, now=now, expected_version=expected_version, **values)
