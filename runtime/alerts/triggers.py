"""A rule's `on:` events as record changes: which changes of the change feed a rule hears, and
how a change finds the rule's subject (the record itself, or its parent through a collection)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VERBS = {"create": "created", "update": "updated", "delete": "deleted"}


@dataclass(frozen=True)
class Trigger:
    """A rule's `on:` event as record changes: the entity whose changes it hears and how a change
    finds the subject (`subject`: the record itself; `collection`: through the `via` field)."""
    rule: str
    entity: str
    verb: str
    how: str
    via: str | None

    def hears(self, op: str) -> bool:
        return self.verb in ("changed", VERBS.get(op))


def triggers_of(bundle: Any, rule: Any) -> list[Trigger]:
    out = []
    scope = bundle.entities.get(rule.scope)
    for event in rule.events:
        noun, _, verb = event.partition(".")
        if noun in ("subject", rule.scope):
            out.append(Trigger(rule.name, rule.scope, verb, "subject", None))
            continue
        for c in getattr(scope, "collections", ()):
            if c.name == noun:
                out.append(Trigger(rule.name, c.entity, verb, "collection", c.via))
    return out
