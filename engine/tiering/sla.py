"""The response time a client's service package promises (`response_within`) as the deadline of
the flow step a tiering's `service_requests` names: a member of a strategic-core group asking for
service is answered within 4 hours, not the step's own day. engine/flow takes it through
`FlowContext.deadlines`; a client with no tier, or whose package promises nothing, keeps the
step's own deadline."""
from __future__ import annotations

from typing import Any, Iterable, Mapping


def service_deadlines(tierings: Iterable[Any], flow: str, subject: Mapping[str, Any] | None) -> dict[str, Any]:
    """{step id: the promised response time} for an instance of `flow` about `subject` (a record
    as expressions see it: the tiering's subject, or a member that names it by `via`)."""
    out: dict[str, Any] = {}
    for tiering in tierings:
        asked = getattr(tiering, "service_requests", None)
        if asked is None or asked.flow != flow or not tiering.assign_to or not subject:
            continue
        client = subject if asked.via is None else subject.get(asked.via)
        if client is None:
            continue                              # a company in no group: no tier, no promise
        tier = tiering.tier(client.get(tiering.assign_to)) if client.get(tiering.assign_to) else None
        package = tier.service_package if tier is not None else None
        if package is not None and package.response_within is not None:
            out[asked.step] = package.response_within
    return out
