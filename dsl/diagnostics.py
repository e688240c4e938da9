"""Diagnostics: `file:line:col: error[BNY123]: message`, the source line, a caret, a hint.

Every layer of validation appends to one `Diagnostics` collection, so a run reports every
problem at once. Codes are stable and catalogued in `dsl.codes`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .codes import CODES
from .errors import BanyanError
from .source import Span


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    hint: str | None = None
    severity: str = "error"  # error | warning

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown diagnostic code {self.code}: add it to dsl/codes.py")

    def as_dict(self) -> dict:
        return {
            "file": self.span.file,
            "line": self.span.line,
            "col": self.span.col,
            "severity": self.severity,
            "code": self.code,
            "title": CODES[self.code].title,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass
class Diagnostics:
    """An ordered collection of diagnostics, shared by every validation layer."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, code: str, message: str, span: Span, hint: str | None = None,
            severity: str = "error") -> Diagnostic:
        diag = Diagnostic(code, message, span, hint, severity)
        self.items.append(diag)
        return diag

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        self.items.extend(diags)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.items)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=lambda d: (d.span.file, d.span.line, d.span.col, d.code))


class DiagnosticError(BanyanError):
    """Raised where a caller wants one exception for a failed compile; carries the diagnostics."""
    code, status, namespace = "invalid_bundle", 422, "dsl"

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(f"{d.span}: {d.code}: {d.message}" for d in diagnostics),
                         problems=[((d.span.file, d.span.line), f"{d.code}: {d.message}") for d in diagnostics])


class SourceCache:
    """Reads source lines for rendering carets; tolerant of files that vanished."""

    def __init__(self, texts: dict[str, str] | None = None):
        self._lines: dict[str, list[str]] = {k: v.splitlines() for k, v in (texts or {}).items()}

    def line(self, file: str, line: int) -> str | None:
        if file not in self._lines:
            try:
                self._lines[file] = Path(file).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                self._lines[file] = []
        lines = self._lines[file]
        return lines[line - 1] if 0 < line <= len(lines) else None


def _display_width(text: str) -> int:
    """Terminal columns of text: CJK characters take two, so the caret lands under them."""
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_text(diags: Iterable[Diagnostic], sources: SourceCache | None = None,
                color: bool = False) -> str:
    sources = sources or SourceCache()
    out: list[str] = []
    red, yellow, cyan, bold, reset = ("\x1b[31m", "\x1b[33m", "\x1b[36m", "\x1b[1m", "\x1b[0m") if color \
        else ("", "", "", "", "")
    for d in diags:
        sev_color = red if d.severity == "error" else yellow
        out.append(f"{bold}{d.span}{reset}: {sev_color}{d.severity}[{d.code}]{reset}: {d.message}")
        src = sources.line(d.span.file, d.span.line)
        if src is not None:
            gutter = f"{d.span.line:>5} | "
            out.append(gutter + src)
            pad = _display_width(src[: max(d.span.col - 1, 0)])
            out.append(" " * (len(gutter) - 2) + "| " + " " * pad + f"{sev_color}^{reset}")
        if d.hint:
            out.append(f"      {cyan}= hint:{reset} {d.hint}")
    return "\n".join(out)


def render_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([d.as_dict() for d in diags], ensure_ascii=False, indent=2)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the candidate `name` is a slip of, or None when none is.

    A hint must not change what the author meant, so a candidate is offered only when it differs
    from `name` by case and separators, or word by word by a typo (a letter missed, added, changed
    or two swapped; words of 3 letters or fewer must match exactly). A different word or a word
    more or fewer is another meaning, never a slip: `risk_manager` is not `customer_manager`,
    `annual_settlement_volume` not `settlement_volume`, `'Aa'` not `'A'`."""
    match = closest(name, candidates)
    return f"did you mean `{match}`?" if match is not None else None


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate `name` is a slip of (see did_you_mean), or None."""
    import difflib
    cands = sorted(set(candidates))
    folded = _fold(name)
    same = [c for c in cands if _fold(c) == folded]
    if same:
        return same[0]
    for match in difflib.get_close_matches(name, cands, n=5, cutoff=0.6):
        if _slip(folded, _fold(match)):
            return match
    return None


def _fold(text: str) -> str:
    return re.sub(r"[\s_\-.]+", "_", str(text).strip().lower())


def _slip(a: str, b: str) -> bool:
    """Every word of `a` is its word of `b` or a typo of it (folded texts)."""
    wa, wb = a.split("_"), b.split("_")
    if len(wa) != len(wb):
        return False
    for x, y in zip(wa, wb):
        if x == y:
            continue
        longest = max(len(x), len(y))
        if longest <= 3 or _typos(x, y) > (2 if longest >= 8 else 1):
            return False
    return True


def _typos(a: str, b: str) -> int:
    """Edits from a to b, a swap of two neighbours counting as one (optimal string alignment)."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def a(word: str) -> str:
    """`a money field`, `an enum field`: the indefinite article for a word."""
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word
