"""What an evaluation did, added up over the batches of a scan: subjects and rules evaluated,
the steps written by kind, the messages, the errors, and what the caller still owes — the records
rolled up to (`parents`) and the subjects whose alert moved (`moved`, for the cascade)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class Counts:
    """What an evaluation did: subjects and rules evaluated, and the steps written by kind."""
    subjects: int = 0
    evaluations: int = 0
    messages: int = 0                                          # notifications written to the outbox
    steps: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    errors: list[dict] = field(default_factory=list)          # conditions that could not be read (first 100)
    parents: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))   # rule → records rolled up to
    moved: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))     # entity → subjects whose alert
    #                                                 took a step, when the caller runs the cascade (a scan, at its end)

    def add(self, other: "Counts") -> None:
        self.subjects += other.subjects
        self.evaluations += other.evaluations
        self.messages += other.messages
        for kind, n in other.steps.items():
            self.steps[kind] += n
        self.errors += other.errors[: max(0, 100 - len(self.errors))]
        for rule, ids in other.parents.items():
            self.parents[rule] |= ids
        for entity, moved in other.moved.items():
            self.moved[entity] |= moved

    def to_dict(self) -> dict:
        return {"subjects": self.subjects, "evaluations": self.evaluations, "steps": dict(self.steps),
                "messages": self.messages,
                "errors": self.errors}
