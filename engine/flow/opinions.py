"""The approval form's 审批意见 block: from an instance's events (the engine's `Result.events`
or the runtime's timeline rows), every opinion in order — the step, the person, the decision,
the opinion (the comment) and the time — as a printable sheet lists them.

A decision without words still appears (an approval needs no reason by default); a comment
without a decision appears as `comment`; what the system decided (a deadline's automatic
approval or rejection) is attributed to `system`."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from dsl.kinds.flow.ir import Flow

from .plan import plan_for

# event kind → the decision the block shows
DECISIONS = {
    "approve": "approve", "reject": "reject", "complete": "complete", "returned": "return",
    "resubmitted": "resubmit", "withdrawn": "withdraw", "comment": "comment", "cancel_requested": "cancel",
    "transferred": "transfer", "delegated": "delegate", "timeout_approved": "approve",
    "timeout_rejected": "reject",
}


def _get(event: Any, key: str) -> Any:
    return event.get(key) if isinstance(event, Mapping) else getattr(event, key, None)


def opinions(events: Iterable[Any], flow: Flow | None = None) -> list[dict[str, Any]]:
    """The 审批意见 block, in the order things happened: {step, step_label {zh, en}, person,
    decision, opinion, at, to}. `events`: Event values or timeline rows ({kind, node, actor, at,
    data}); `flow` (optional) gives the steps' labels. Transfers and delegations count only when
    they carry words; a delegate's decision is theirs (`for` names the person they acted for)."""
    nodes = plan_for(flow).nodes if flow is not None else {}
    out: list[dict[str, Any]] = []
    for e in events:
        kind = _get(e, "kind")
        data = _get(e, "data") or {}
        if kind == "delegate_acted":
            decision = data.get("verdict")
        else:
            decision = DECISIONS.get(kind)
        if decision is None:
            continue
        words = data.get("text") if kind == "comment" else data.get("comment") or data.get("reason")
        if kind in ("transferred", "delegated") and not words:
            continue
        node = _get(e, "node")
        system = kind.startswith("timeout_")
        found = nodes.get(node) if node else None
        label = getattr(found, "label", None)
        row = {"step": node, "step_label": {"zh": label.zh, "en": label.en} if label is not None else None,
               "person": "system" if system else _get(e, "actor"), "decision": decision,
               "opinion": words or None, "at": _get(e, "at")}
        if data.get("to") is not None:
            row["to"] = data["to"]
        if kind == "delegate_acted" or data.get("on_behalf_of"):
            row["for"] = data.get("owner") or data.get("on_behalf_of")
        out.append(row)
    return out
