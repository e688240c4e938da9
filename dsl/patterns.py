"""Field patterns (`pattern:` on a text field), matched in linear time.

A pattern is compiled with RE2 (google-re2), which never backtracks: however a business
expert writes it (`^(R+)+$` included), checking a value takes time proportional to the value,
on the server and in every import. RE2 has no backreferences and no lookaround; a pattern
that uses them is a validate-time error, so what validates is what runs.

The browser's own regular expressions backtrack, so a form checks a pattern as the person
types only when it has no quantifier inside a repeated group (`backtracking_safe`); any other
pattern is left to the server, which answers as fast either way.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

import re2

from .errors import BanyanError

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False         # a bad pattern is our diagnostic, not a line on stderr


class PatternError(BanyanError, ValueError):
    """A pattern RE2 cannot compile (the message says why, in RE2's words)."""
    code, status, namespace = "bad_pattern", 422, "dsl"


@lru_cache(maxsize=4096)
def compile_pattern(text: str) -> Any:
    """The compiled pattern (`.search(value)` finds a match anywhere, as `re.search` does)."""
    try:
        return re2.compile(text, _OPTIONS)
    except re2.error as exc:
        why = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(why) from None


@lru_cache(maxsize=4096)
def pattern_test(text: str) -> Callable[[str], bool]:
    """Whether a value holds a match of the pattern anywhere (`bool(compile_pattern(text).search(v))`),
    made for checking many values: RE2 runs on the value's UTF-8 bytes directly, with no match
    object and no character offsets to work out (the wrapper's `search` spends most of its time
    there)."""
    compile_pattern(text)                                   # the same check and error as ever
    on_bytes = re2.compile(text.encode("utf-8"), _OPTIONS)  # UTF-8 mode: the same code points
    regexp = getattr(on_bytes, "_regexp", None)
    match = getattr(regexp, "Match", None)
    if match is None:                                        # another wrapper version: its search
        return lambda value: on_bytes.search(value.encode("utf-8")) is not None
    anywhere, no_match = re2._Anchor.UNANCHORED, (-1, -1)

    def test(value: str) -> bool:
        data = value.encode("utf-8")
        return match(anywhere, data, 0, len(data))[0] != no_match
    return test


def backtracking_safe(text: str) -> bool:
    """Whether a backtracking engine (the browser's) runs `text` without blowing up: no
    quantifier repeats a group that itself holds a quantifier or an alternative (`(a+)+`,
    `(x{2,})+`, `(a|aa)+`). Conservative: when unsure it says False, and the server checks the
    pattern alone."""
    holds_quantifier = [False]          # one flag per open group: does it contain a quantifier?
    last_group_quantified = False       # the group that just closed contained a quantifier
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            last_group_quantified = False
            continue
        if c == "[":                    # a character class: one atom, whatever it holds
            i += 1
            if i < n and text[i] == "^":
                i += 1
            if i < n and text[i] == "]":
                i += 1
            while i < n and text[i] != "]":
                i += 2 if text[i] == "\\" else 1
            i += 1
            last_group_quantified = False
            continue
        if c == "(":
            holds_quantifier.append(False)
            last_group_quantified = False
        elif c == ")":
            inner = holds_quantifier.pop() if len(holds_quantifier) > 1 else False
            holds_quantifier[-1] = holds_quantifier[-1] or inner
            last_group_quantified = inner
            i += 1
            continue
        elif c == "|":
            holds_quantifier[-1] = True     # alternatives may overlap: treat like a quantifier
        elif c in "*+?{":
            repeats = c in "*+" or (c == "{" and _repeats(text, i))
            if repeats and last_group_quantified:
                return False
            if repeats:
                holds_quantifier[-1] = True
        i += 1
        if c not in ")":
            last_group_quantified = False
    return True


def _repeats(text: str, i: int) -> bool:
    """Whether the `{…}` at `i` lets its atom repeat (not `{1}` or `{0,1}`)."""
    end = text.find("}", i)
    if end < 0:
        return False
    body = text[i + 1:end].split(",")
    try:
        high = int(body[-1]) if body[-1].strip() else None
    except ValueError:
        return False
    return high is None or high > 1
