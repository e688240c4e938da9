"""The live state of one flow instance: small, immutable values that round-trip through JSON.

The state holds only what is alive now (tokens, open tasks, open splits, armed timers,
withdrawable hand-offs), never the history: each command's history comes out as events in
`Result.events`, which the runtime appends to its own log. So the cost of a step does not
grow with the number of steps before it.

Every value here is a frozen dataclass; the mappings inside `FlowInstance` are plain dicts
that the engine never mutates after building them (a command works on copies)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from .frozen import fast_init

Scope = tuple[str, str]          # (split id, the first node of the branch the token took)

RUNNING, FINISHED, CANCELLED = "running", "finished", "cancelled"
APPROVE, REJECT = "approve", "reject"


@fast_init
@dataclass(frozen=True, slots=True)
class Step:
    """How the people at one human step decide.

    mode: single (one person, or a pool where the first to act decides), any (或签),
    all (会签), ratio (approvals / signers ≥ pass), sequential (依次).
    signers: the distinct people counted, in order; queue: sequential signers not yet asked;
    votes: (person, approve|reject) in the order they came."""

    mode: str
    signers: tuple[str, ...]
    queue: tuple[str, ...] = ()
    votes: tuple[tuple[str, str], ...] = ()

    def voted(self, user: str) -> bool:
        for u, _ in self.votes:              # a loop: no generator on the engine's common path
            if u == user:
                return True
        return False

    @property
    def approvals(self) -> int:
        return sum(1 for _, v in self.votes if v == APPROVE)


@fast_init
@dataclass(frozen=True, slots=True)
class Token:
    """A point of control resting at a node (human step, subflow call or wait).

    scopes: the splits the token is inside, outermost first. touched: someone has acted on
    its step (claim, vote, transfer …), so the step before can no longer be withdrawn.
    back: at the initiator's edit step (INITIATOR), the node a resubmission continues from."""

    id: str
    node: str
    scopes: tuple[Scope, ...] = ()
    step: Step | None = None
    touched: bool = False
    due: datetime | None = None
    back: str | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Task:
    """An open work item. `assignee` None: a pool task any of `candidates` may claim.

    owner: who delegated it (委托); the task comes back to them once the delegate acts. With
    `deputy`, the owner is away and the assignee is their deputy (代理, deputies.py): the
    deputy's action is final and counts as the owner's.
    held: a before-signer (前加签) must act first; release: the held task this one frees.
    after: people to ask once this assignee approves (后加签)."""

    id: str
    token: str
    node: str
    assignee: str | None
    candidates: tuple[str, ...] = ()
    owner: str | None = None
    held: bool = False
    release: str | None = None
    after: tuple[str, ...] = ()
    deputy: bool = False

    @property
    def signer(self) -> str | None:
        """Whose vote this task carries: the delegator when delegated, else the assignee."""
        return self.owner or self.assignee


@fast_init
@dataclass(frozen=True, slots=True)
class Split:
    """An open parallel or inclusive split: how many paths left, how many reached the join."""

    id: str
    node: str
    join: str
    expected: int
    scopes: tuple[Scope, ...]
    arrived: int = 0
    fired: bool = False


@fast_init
@dataclass(frozen=True, slots=True)
class Timer:
    """An armed timer: the runtime fires it at `at` with TimerFired(id)."""

    id: str
    token: str
    kind: str                    # deadline | remind | escalate | wait
    at: datetime
    level: int = 0


@fast_init
@dataclass(frozen=True, slots=True)
class Handoff:
    """What the last pass of a human step produced, kept so its approvers may withdraw (撤回)
    while nothing downstream has been acted on."""

    node: str
    by: tuple[str, ...]
    scopes: tuple[Scope, ...]
    step: Step | None
    tokens: tuple[str, ...]
    arrivals: tuple[str, ...] = ()
    splits: tuple[str, ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class FlowInstance:
    id: str
    flow: str
    initiator: str
    started_at: datetime
    status: str = RUNNING
    outcome: str | None = None
    version: int = 0
    seq: int = 0
    form: Mapping[str, Any] = field(default_factory=dict)
    tokens: Mapping[str, Token] = field(default_factory=dict)
    tasks: Mapping[str, Task] = field(default_factory=dict)
    splits: Mapping[str, Split] = field(default_factory=dict)
    timers: Mapping[str, Timer] = field(default_factory=dict)
    handoffs: tuple[Handoff, ...] = ()
    watchers: tuple[str, ...] = ()

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    def tasks_of(self, user: str) -> list[Task]:
        """Open tasks `user` can act on now (assigned, or in the pool), held ones left out."""
        return [t for t in self.tasks.values()
                if not t.held and (t.assignee == user or (t.assignee is None and user in t.candidates))]
