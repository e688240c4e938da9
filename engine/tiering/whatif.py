"""What a candidate tiering would change (pure): for each subject its tier now and under the
candidate, the subjects that move, and the counts from each tier to each (a matrix)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Mapping

UNTIERED = "-"                       # a subject the data cannot tier, in the matrix


@dataclass(frozen=True)
class Move:
    subject: str
    before: str | None
    after: str | None


@dataclass
class Comparison:
    subjects: int = 0
    moves: list[Move] = field(default_factory=list)
    matrix: Counter[tuple[str, str]] = field(default_factory=Counter)     # (before, after) → subjects

    def counts(self, side: str) -> Counter[str]:
        """Subjects per tier now (`before`) or under the candidate (`after`)."""
        out: Counter[str] = Counter()
        for (b, a), n in self.matrix.items():
            out[b if side == "before" else a] += n
        return out


def compare(before: Mapping[str, str | None], after: Mapping[str, str | None]) -> Comparison:
    """`before` and `after`: {subject: tier or None}, over the same subjects."""
    out = Comparison()
    for subject in sorted(before):
        b, a = before[subject], after.get(subject)
        out.subjects += 1
        out.matrix[(b or UNTIERED, a or UNTIERED)] += 1
        if b != a:
            out.moves.append(Move(subject, b, a))
    return out
