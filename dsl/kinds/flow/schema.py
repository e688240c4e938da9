"""The JSON Schema of the Flow kind. A node's `type:` picks which keys it takes (if/then per
type), so a misspelt key is reported with the keys that node type allows."""
from __future__ import annotations

from typing import Any

from dsl.kinds.actions import action_schema
from dsl.kinds.common import EXPRESSION, LABEL, NAME, ROLE_LIST, envelope
from dsl.kinds.flow.ir import REASON_ACTIONS, RESUBMIT
from dsl.kinds.parts import ASSIGNEES, CONDITION, ID, NAME_LIST, SLA

NODE_TYPES = ["task", "approval", "branch", "inclusive", "parallel", "join", "subflow", "wait", "action", "end"]
STEP_ACTIONS = ["approve", "reject", "return", "withdraw", "transfer", "delegate", "add_signer", "remove_signer",
                "urge", "cc", "comment", "complete"]
TIMEOUT_ACTIONS = ["remind", "auto_approve", "auto_reject", "escalate"]

TARGET = {**ID, "description": "The id of a node of this flow."}

_BASE = {
    "id": ID,
    "type": {"enum": NODE_TYPES, "description": "task | approval | branch (exclusive) | inclusive | parallel | join | "
                                                "subflow | wait | action | end"},
    "label": LABEL,
    "description": {"type": "string"},
}
_NEXT = {"next": {**TARGET, "description": "The node that follows. Left out: the next node in the list."}}
_TIMING = {
    "deadline": {**SLA, "description": "How long the step may take: `2 business days`, `24h`."},
    "reminders": {"type": "object", "additionalProperties": False, "minProperties": 1,
                  "description": "Remind the assignees: `before` the deadline, then `every` interval, at most `max` times.",
                  "properties": {"before": SLA, "every": SLA, "max": {"type": "integer", "minimum": 1},
                                 "channels": {**NAME_LIST, "minItems": 1}}},
    "escalation": {"type": "array", "minItems": 1,
                   "description": "Escalation levels after the deadline passes, in order.",
                   "items": {"type": "object", "required": ["after", "to"], "additionalProperties": False,
                             "properties": {"after": {**SLA, "description": "Time after the deadline."},
                                            "to": ASSIGNEES,
                                            "action": {"enum": ["notify", "reassign", "add_signer"],
                                                       "description": "Tell them (default), hand the step over, "
                                                                      "or add them as signers."},
                                            "channels": {**NAME_LIST, "minItems": 1}}}},
    "on_timeout": {"description": "What happens when the deadline passes: remind (keep reminding), auto_approve, "
                                  "auto_reject, escalate (run `escalation`), or {goto: node}.",
                   "oneOf": [{"enum": TIMEOUT_ACTIONS},
                             {"type": "object", "required": ["goto"], "additionalProperties": False,
                              "properties": {"goto": TARGET}}]},
    "cc": {**ASSIGNEES, "description": "Users copied (抄送) when the step starts; they can read but not act."},
}
_RESUBMIT = {"enum": list(RESUBMIT)}
_HUMAN = {
    "assignees": ASSIGNEES,
    "actions": {"type": "array", "items": {"enum": STEP_ACTIONS}, "uniqueItems": True, "minItems": 1,
                "description": "What the assignee may do here: " + ", ".join(STEP_ACTIONS) + "."},
    "fields": {"type": "object", "additionalProperties": False, "minProperties": 1,
               "description": "Form field permissions at this step; unlisted fields are read-only.",
               "properties": {k: {**NAME_LIST, "description": d} for k, d in (
                   ("editable", "Fields the assignee may change."), ("readonly", "Fields shown but locked."),
                   ("hidden", "Fields not shown at this step."), ("required", "Fields that must be filled to finish."))}},
    "if_no_assignee": {"enum": ["escalate", "auto_approve", "skip", "fail"],
                       "description": "When the assignee expression finds no one (default escalate to the "
                                      "escalation's first level, else to the flow admin)."},
    "if_initiator": {"enum": ["allow", "skip", "supervisor"],
                     "description": "When the initiator is an assignee (four eyes): allow, skip them (when they "
                                    "are the only one, the step goes to their supervisor instead), or pass to "
                                    "their supervisor; skip and supervisor also keep them from signing or doing "
                                    "the step later. Left out: supervisor for an approval, allow for a task."},
    "return_to": {"type": "array", "items": TARGET, "uniqueItems": True, "minItems": 1,
                  "description": "Nodes a `return` may send the work back to (default: any earlier step); "
                                 "`initiator` sends the application back to the initiator's edit form "
                                 "(退回发起人), who edits and resubmits it or withdraws it."},
    "resubmit": {**_RESUBMIT, "description": "Where an application returned from this step to the initiator "
                                             "continues once resubmitted: from_returning_step (this step; inside "
                                             "parallel paths, the split that holds it) or from_start. Left out: "
                                             "the flow's `resubmit`. Needs `initiator` in `return_to`."},
    "reason_required": {"type": "array", "items": {"enum": list(REASON_ACTIONS)}, "uniqueItems": True,
                        "description": "Actions that need a reason (意见, the comment) here. Left out: reject and "
                                       "return; `[]`: none."},
}
COUNTERSIGN = {
    "type": "object", "required": ["mode"], "additionalProperties": False,
    "description": "How several assignees decide: any (或签, the first decision counts), all (会签, every one must "
                   "approve), ratio (approvals / assigned signers ≥ pass; abstentions count against), "
                   "sequential (依次, in the order the assignees are listed).",
    "properties": {
        "mode": {"enum": ["any", "all", "ratio", "sequential"]},
        "pass": {"type": ["string", "number"],
                 "description": "For ratio: the share of the signers whose approval carries the step, counted "
                                "exactly: approvals × denominator ≥ numerator × signers. A fraction (2/3), a "
                                "percentage (60%) or a decimal (0.6) are read as written, so they differ: with "
                                "three signers 2/3 needs two approvals, 67% or 0.67 needs all three."},
        "veto": {"description": "Who can reject alone, whatever the others decide: an expression or a list of roles. "
                                "Veto holders are signers of the step (each gets a task, counted like the other "
                                "signers), and the step does not pass before every one of them has voted.",
                 "oneOf": [EXPRESSION, ROLE_LIST]},
    },
}
_CASES = {"type": "array", "minItems": 1,
          "items": {"type": "object", "required": ["goto"], "additionalProperties": False,
                    "properties": {"when": CONDITION, "goto": TARGET, "label": LABEL}}}

_BY_TYPE: dict[str, tuple[dict[str, Any], list[str]]] = {
    "task": ({**_NEXT, **_TIMING, **_HUMAN}, ["assignees"]),
    "approval": ({**_NEXT, **_TIMING, **_HUMAN, "countersign": COUNTERSIGN,
                  "on_reject": {**TARGET, "description": "Where a rejection goes; left out, the flow ends "
                                                         "with outcome `rejected`."},
                  "added_signer_reject": {"enum": ["back_to_adder", "reject_request"],
                                          "description": "When a signer added before the approver (前加签) "
                                                         "rejects: back_to_adder (default) gives the decision back "
                                                         "to the approver who added them; reject_request makes "
                                                         "their rejection the step's. Needs `add_signer` among "
                                                         "the actions."}}, ["assignees"]),
    "branch": ({"cases": {**_CASES, "description": "Tried in order; the first whose `when` holds wins."},
                "default": {**TARGET, "description": "Where to go when no case holds."}}, ["cases"]),
    "inclusive": ({"cases": {**_CASES, "description": "Every case whose `when` holds runs, in parallel."},
                   "default": {**TARGET, "description": "Where to go when no case holds."},
                   "join": {**TARGET, "description": "The join node where the chosen paths meet."}}, ["cases", "join"]),
    "parallel": ({"branches": {"type": "array", "items": TARGET, "minItems": 2, "uniqueItems": True,
                               "description": "The first node of each path; all run at once."},
                  "join": {**TARGET, "description": "The join node where the paths meet."}}, ["branches", "join"]),
    "join": ({**_NEXT, "wait": {"description": "all (default), any, or how many incoming paths to wait for.",
                                "oneOf": [{"enum": ["all", "any"]}, {"type": "integer", "minimum": 1}]}}, []),
    "subflow": ({**_NEXT, **_TIMING,
                 "flow": {**NAME, "description": "The flow to call."},
                 "subject": {**EXPRESSION, "description": "The called flow's subject (default: this subject)."},
                 "input": {"type": "object", "propertyNames": NAME, "additionalProperties": EXPRESSION,
                           "description": "The called flow's form fields: {field: expression over this flow}."},
                 "output": {"type": "object", "propertyNames": NAME, "additionalProperties": EXPRESSION,
                            "description": "This form's fields set when the call ends: {field: expression over "
                                           "`result` (the called flow's form) and `outcome`}."}}, ["flow"]),
    "wait": ({**_NEXT, **_TIMING,
              "event": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$",
                        "description": "Wait for an event, e.g. financials.updated.",
                        "x-hint": "write RECORD.EVENT, e.g. financials.updated"},
              "where": {**CONDITION, "description": "Only an event for which this holds ends the wait."},
              "until": {**EXPRESSION, "description": "Wait until this date or time."},
              "for": {**SLA, "description": "Wait this long."}}, []),
    "action": ({**_NEXT, "do": {"type": "array", "minItems": 1,
                                "items": action_schema(("set", "notify", "start_flow", "webhook", "record"))}}, ["do"]),
    "end": ({"outcome": {**NAME, "description": "The outcome the flow ends with (approved, rejected, done …)."},
             "terminate": {"type": "boolean",
                           "description": "true (default): reaching this end ends the whole instance and cancels "
                                          "open work. false: it ends only the path that reaches it; the instance "
                                          "finishes when no path is left."},
             "do": {"type": "array", "minItems": 1,
                    "items": action_schema(("set", "notify", "start_flow", "webhook", "record"))}},
            []),
}


def _node_schema() -> dict:
    union: dict = dict(_BASE)
    for props, _ in _BY_TYPE.values():
        union.update(props)
    branches = []
    for kind, (props, required) in _BY_TYPE.items():
        branches.append({"if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
                         "then": {"required": required, "additionalProperties": False,
                                  "properties": {**_BASE, **props}}})
    return {"type": "object", "required": ["id", "type"], "properties": union, "allOf": branches,
            "description": "One step of the flow; `type` picks what it does."}


NODE = _node_schema()

FLOW_SPEC = {
    "type": "object",
    "required": ["start", "nodes"],
    "additionalProperties": False,
    "properties": {
        "subject": {**NAME, "description": "The entity the flow is about (group, company); expressions see it as `subject`."},
        "form": {**NAME, "description": "The Form (or Entity) people fill in; expressions see it as `form`."},
        "start": {"type": "object", "additionalProperties": False,
                  "description": "How an instance starts.",
                  "properties": {"who": {**ASSIGNEES, "description": "Who may start it, e.g. \"role('relationship_manager')\". "
                                                                     "Left out: anyone who can see the subject."},
                                 "first": {**TARGET, "description": "The first node (default: the first in `nodes`)."}}},
        "roles": {**ROLE_LIST, "description": "Roles that may see every instance (supervisors, auditors)."},
        "resubmit": {**_RESUBMIT, "description": "Where an application returned to the initiator (a step's "
                                                 "`return_to: [initiator]`) continues once resubmitted: "
                                                 "from_returning_step (default) or from_start."},
        "nodes": {"type": "array", "items": NODE, "minItems": 1},
    },
}

SCHEMA = envelope("Flow", FLOW_SPEC, "An approval or work flow: its subject, form, start, and steps.")
