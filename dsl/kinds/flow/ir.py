"""The Flow IR: frozen nodes, one class per node `type:`, each carrying its span.

Every transition is explicit in the IR: a node written without `next` gets the following
node of the list as `next` at compile time, so the engine never looks at list order."""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping

from dsl.ir import Label, Metadata
from dsl.kinds.actions import Action
from dsl.kinds.parts import Duration
from dsl.source import Span

INITIATOR = "initiator"           # a `return_to` target: back to the initiator's edit form (退回发起人); no node
                                  # may take this id. The engine's edit step carries it as its node id too.
RESUBMIT = ("from_returning_step", "from_start")   # where a resubmitted application continues
REASON_ACTIONS = ("approve", "reject", "return", "complete", "transfer", "delegate", "add_signer")
DEFAULT_REASONS = ("reject", "return")            # banks want a reason (意见) for these unless a step says not

@dataclass(frozen=True)
class Reminders:
    before: Duration | None
    every: Duration | None
    max: int | None
    channels: tuple[str, ...]


@dataclass(frozen=True)
class Escalation:
    after: Duration
    to: Any                       # CompiledExpr giving users
    action: str                   # notify | reassign | add_signer
    channels: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class Timing:
    deadline: Duration | None
    reminders: Reminders | None
    escalation: tuple[Escalation, ...]
    on_timeout: str | None        # remind | auto_approve | auto_reject | escalate | goto
    timeout_goto: str | None
    cc: Any                       # CompiledExpr | None


NO_TIMING = Timing(None, None, (), None, None, None)


@dataclass(frozen=True)
class FieldAccess:
    editable: tuple[str, ...] = ()
    readonly: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    required: tuple[str, ...] = ()


@dataclass(frozen=True)
class Countersign:
    mode: str                     # any | all | ratio | sequential
    pass_ratio: Fraction | None   # for ratio: approvals / assigned signers must reach it
    veto_roles: tuple[str, ...]   # veto holders are signers of the step (a task each, counted like the
    veto: Any                     # others) and the step waits for their vote; CompiledExpr | None
    span: Span

    @property
    def has_veto(self) -> bool:
        return bool(self.veto_roles) or self.veto is not None


@dataclass(frozen=True)
class Case:
    when: Any                     # CompiledExpr | None (None: always)
    goto: str
    label: Label
    span: Span


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    label: Label
    next: str | None              # explicit or the following node; None where the type has no single next
    span: Span


@dataclass(frozen=True)
class TaskNode(Node):
    timing: Timing
    assignees: Any                # CompiledExpr giving users (RoleHolders selectors are expanded by the engine)
    actions: tuple[str, ...]
    fields: FieldAccess
    if_no_assignee: str
    if_initiator: str | None      # allow | skip | supervisor; None: not written (approvals keep the initiator
                                  # off as `supervisor` does, tasks keep them as `allow` does)
    return_to: tuple[str, ...]    # empty: any earlier step; INITIATOR: the initiator's edit form
    resubmit: str | None = field(default=None, kw_only=True)   # None: the flow's `resubmit`
    reason_required: tuple[str, ...] = field(default=DEFAULT_REASONS, kw_only=True)  # actions needing a comment

    @property
    def initiator_policy(self) -> str:
        """allow | skip | supervisor, the default filled in (approvals: supervisor; tasks: allow)."""
        if self.if_initiator is not None:
            return self.if_initiator
        return "supervisor" if self.type == "approval" else "allow"


@dataclass(frozen=True)
class ApprovalNode(TaskNode):
    countersign: Countersign | None
    on_reject: str | None         # None: the flow ends with outcome `rejected`
    added_signer_reject: str = "back_to_adder"   # a signer added before (前加签) who rejects: back to the
                                                 # approver who added them, or `reject_request` (the step's verdict)


@dataclass(frozen=True)
class BranchNode(Node):
    cases: tuple[Case, ...]
    default: str | None


@dataclass(frozen=True)
class InclusiveNode(BranchNode):
    join: str


@dataclass(frozen=True)
class ParallelNode(Node):
    branches: tuple[str, ...]
    join: str


@dataclass(frozen=True)
class JoinNode(Node):
    wait: str | int               # all | any | how many paths


@dataclass(frozen=True)
class SubflowNode(Node):
    timing: Timing
    flow: str
    subject: Any                  # CompiledExpr | None (None: this subject)
    input: tuple[tuple[str, Any], ...]
    output: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class WaitNode(Node):
    timing: Timing
    event: str | None
    where: Any
    until: Any
    duration: Duration | None


@dataclass(frozen=True)
class ActionNode(Node):
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class EndNode(Node):
    outcome: str
    actions: tuple[Action, ...]
    terminate: bool = True        # False: ends only the path that reaches it (implicit termination: the
                                  # instance finishes when no path is left)


@dataclass(frozen=True)
class Flow:
    meta: Metadata
    subject: str | None
    form: str | None
    start_who: Any                # CompiledExpr | None: anyone who can see the subject
    first: str
    roles: tuple[str, ...]
    nodes: tuple[Node, ...]
    resubmit: str = "from_returning_step"   # where an application the initiator resubmits continues (RESUBMIT)

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def by_id(self) -> Mapping[str, Node]:
        return {n.id: n for n in self.nodes}

    @property
    def outcomes(self) -> tuple[str, ...]:
        ends = [n.outcome for n in self.nodes if isinstance(n, EndNode)]
        if any(isinstance(n, ApprovalNode) and n.on_reject is None for n in self.nodes):
            ends.append("rejected")
        return tuple(dict.fromkeys(ends))
