"""What a command asks the outside world to do (effects) and what happened (events).

The runtime performs effects inside the same transaction that stores the new state (through
its outbox), and appends events to the instance's timeline. Neither is kept in the state."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from .frozen import fast_init
from .state import FlowInstance


@fast_init
@dataclass(frozen=True, slots=True)
class CreateTask:
    task: str
    node: str
    assignee: str | None
    candidates: tuple[str, ...]
    due: datetime | None
    held: bool = False


@fast_init
@dataclass(frozen=True, slots=True)
class UpdateTask:
    """A task changed hands or state (claim, transfer, delegate, held/released, reassigned)."""
    task: str
    assignee: str | None
    candidates: tuple[str, ...]
    held: bool
    owner: str | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class CloseTask:
    """A task is over: reason `done` (its holder acted) or why it was cancelled."""
    task: str
    reason: str


@fast_init
@dataclass(frozen=True, slots=True)
class Notify:
    users: tuple[str, ...]
    template: str
    channels: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    node: str | None = None
    task: str | None = None
    message: str | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class SetTimer:
    timer: str
    at: datetime
    kind: str


@fast_init
@dataclass(frozen=True, slots=True)
class ClearTimer:
    timer: str


@fast_init
@dataclass(frozen=True, slots=True)
class StartSubflow:
    """Start the child flow; answer with SubflowEnded(call=call) when it ends."""
    call: str
    flow: str
    subject: Any
    input: Mapping[str, Any]


@fast_init
@dataclass(frozen=True, slots=True)
class CancelSubflow:
    call: str


@fast_init
@dataclass(frozen=True, slots=True)
class StartFlow:
    """Start an independent flow (an action's `start_flow`); nothing waits for it."""
    flow: str
    subject: Any
    input: Mapping[str, Any]


@fast_init
@dataclass(frozen=True, slots=True)
class SetFields:
    values: Mapping[str, Any]


@fast_init
@dataclass(frozen=True, slots=True)
class Webhook:
    channel: str
    template: str


@fast_init
@dataclass(frozen=True, slots=True)
class Finished:
    status: str
    outcome: str


@fast_init
@dataclass(frozen=True, slots=True)
class Event:
    """One line of the instance's timeline."""
    kind: str
    at: datetime
    actor: str
    node: str | None = None
    task: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@fast_init
@dataclass(frozen=True, slots=True)
class Result:
    state: FlowInstance
    effects: tuple[Any, ...]
    events: tuple[Event, ...]
