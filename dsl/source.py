"""Source positions: every IR node and every diagnostic points back into a YAML file."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """A position in a source file. Lines and columns are 1-based, as editors show them."""

    file: str
    line: int
    col: int
    end_line: int | None = None
    end_col: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def shifted(self, line_offset: int, col: int) -> "Span":
        """A position inside this span: `line_offset` lines below its start, at column `col`
        (absolute when line_offset > 0, relative to this span's column on its first line)."""
        if line_offset == 0:
            return Span(self.file, self.line, self.col + col - 1)
        return Span(self.file, self.line + line_offset, col)


UNKNOWN = Span("<unknown>", 1, 1)
