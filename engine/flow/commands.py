"""Commands: what people (and the runtime's clock and event bus) ask of a flow instance.

Every command carries `actor` (a user name, or "system" for timers and events), `now` (the
engine reads no clock) and an optional `expected_version`: when given and not equal to the
instance's version, the command is refused as stale."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from .frozen import fast_init

SYSTEM = "system"


@fast_init
@dataclass(frozen=True, kw_only=True)
class Command:
    actor: str
    now: datetime
    expected_version: int | None = None


@fast_init
@dataclass(frozen=True, kw_only=True)
class Start(Command):
    """Start an instance; `actor` is the initiator, `form` the submitted form values."""
    instance: str
    form: Mapping[str, Any] = field(default_factory=dict)


@fast_init
@dataclass(frozen=True, kw_only=True)
class TaskCommand(Command):
    task: str
    comment: str | None = None


@fast_init
@dataclass(frozen=True, kw_only=True)
class Claim(TaskCommand):
    """Take a pool task: it becomes yours and leaves the others' inboxes."""


@fast_init
@dataclass(frozen=True, kw_only=True)
class Approve(TaskCommand):
    fields: Mapping[str, Any] = field(default_factory=dict)


@fast_init
@dataclass(frozen=True, kw_only=True)
class Reject(TaskCommand):
    fields: Mapping[str, Any] = field(default_factory=dict)


@fast_init
@dataclass(frozen=True, kw_only=True)
class Complete(TaskCommand):
    """Finish a task step (fill the form); `fields` are the values entered."""
    fields: Mapping[str, Any] = field(default_factory=dict)


@fast_init
@dataclass(frozen=True, kw_only=True)
class Return(TaskCommand):
    """Send the work back (退回) to an earlier node `to`."""
    to: str


@fast_init
@dataclass(frozen=True, kw_only=True)
class Transfer(TaskCommand):
    """Hand the task over (转办): `to` decides in your place."""
    to: str


@fast_init
@dataclass(frozen=True, kw_only=True)
class Delegate(TaskCommand):
    """Ask `to` to handle it for you (委托); it comes back to you when they have acted."""
    to: str


@fast_init
@dataclass(frozen=True, kw_only=True)
class AddSigner(TaskCommand):
    """加签: `users` sign before you, after you, or in parallel with you."""
    users: tuple[str, ...]
    position: str = "parallel"          # before | after | parallel


@fast_init
@dataclass(frozen=True, kw_only=True)
class RemoveSigner(TaskCommand):
    """减签: take back a signer who has not acted yet."""
    user: str


@fast_init
@dataclass(frozen=True, kw_only=True)
class Withdraw(Command):
    """撤回: take back your approval of `node` (default: your latest) while the next step has
    not acted; the initiator withdraws the whole request before its first step acts."""
    node: str | None = None


@fast_init
@dataclass(frozen=True, kw_only=True)
class Urge(Command):
    """催办: remind the people holding `task` (default: every open task)."""
    task: str | None = None
    message: str | None = None


@fast_init
@dataclass(frozen=True, kw_only=True)
class Cc(Command):
    """抄送: let `users` follow the instance (they read, they do not act)."""
    users: tuple[str, ...]
    task: str | None = None


@fast_init
@dataclass(frozen=True, kw_only=True)
class Comment(Command):
    text: str
    task: str | None = None


@fast_init
@dataclass(frozen=True, kw_only=True)
class Cancel(Command):
    """Stop the instance: every open task is cancelled, the outcome is `cancelled`."""
    reason: str | None = None


@fast_init
@dataclass(frozen=True, kw_only=True)
class TimerFired(Command):
    timer: str


@fast_init
@dataclass(frozen=True, kw_only=True)
class EventOccurred(Command):
    """A business event (e.g. financials.updated) with the changed record, for wait steps."""
    event: str
    record: Mapping[str, Any] = field(default_factory=dict)


@fast_init
@dataclass(frozen=True, kw_only=True)
class SubflowEnded(Command):
    """The child flow started for `call` (the StartSubflow effect's call id) has ended."""
    call: str
    outcome: str
    result: Mapping[str, Any] = field(default_factory=dict)


@fast_init
@dataclass(frozen=True, kw_only=True)
class Resubmit(TaskCommand):
    """The initiator sends the application returned to them (退回发起人) again: `form` holds the
    values they edited (the runtime checks them as it checks a start's); it continues from the
    step that returned it, or from the start, as the flow says."""
    form: Mapping[str, Any] = field(default_factory=dict)
