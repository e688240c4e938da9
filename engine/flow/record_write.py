"""The `record` action of an action step (dsl/kinds/record_action.py) as an effect: its match and
values evaluated over the instance now, for the runtime to write through the records service in
the same transaction as the step (runtime/flows/booking.py)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from dsl.kinds.record_action import WriteRecord

from .frozen import fast_init
from .work import Work


@fast_init
@dataclass(frozen=True, slots=True)
class RecordWrite:
    """Change the record of `entity` whose fields equal `match` to `values`; create it from both
    when there is none. `node` is the step that asks."""
    entity: str
    match: Mapping[str, Any]
    values: Mapping[str, Any]
    node: str


def plan_record(work: Work, action: WriteRecord, node: str) -> None:
    work.effects.append(RecordWrite(action.entity, {k: work.evaluate(e) for k, e in action.match},
                                    {k: work.evaluate(e) for k, e in action.values}, node))
