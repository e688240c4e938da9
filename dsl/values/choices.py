"""Yes/no, choices by code or label, durations, text and references."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any, Iterable

from .errors import BadValue
from .numbers import ascii_text

TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1", "on", "是", "真", "对", "√", "✓"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0", "off", "否", "假", "错", "×", "✗"})

# duration units (the expression language's `2d`, `24h`, `30m`, `1w`; `m` is minutes)
DURATION_UNITS = {
    "d": "days", "day": "days", "days": "days", "天": "days",
    "h": "hours", "hour": "hours", "hours": "hours", "小时": "hours",
    "m": "minutes", "min": "minutes", "minute": "minutes", "minutes": "minutes", "分钟": "minutes",
    "w": "weeks", "week": "weeks", "weeks": "weeks", "周": "weeks",
    "s": "seconds", "second": "seconds", "seconds": "seconds", "秒": "seconds",
}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([a-z\u4e00-\u9fff]+)")
_LIST_SPLIT = re.compile(r"[;,；，、\n]")


def read_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, Decimal)) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        word = ascii_text(raw).lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
    raise BadValue("bool", raw)


def read_text(raw: Any) -> str:
    """Text as typed (numbers become their digits: a spreadsheet cell `12` in a text field is `12`)."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        raise BadValue("text", raw)
    if isinstance(raw, (int, Decimal)):
        return str(raw)
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    raise BadValue("text", raw)


class ChoiceWords:
    """The choices of an enum as a problem names them: their labels in the reader's language
    (贷款、保函 / Loan, Guarantee), which every door reads back, else their codes."""

    def __init__(self, values: Iterable[Any]):
        self._items = [(getattr(v, "value", v), getattr(v, "label", None)) for v in values]

    def text(self, lang: str) -> str:
        shown = [(label.text(lang) if label is not None else "") or code for code, label in self._items]
        return ("、" if lang == "zh" else ", ").join(shown)

    def __str__(self) -> str:
        return self.text("en")


class Choices:
    """The values of an enum field, readable by code (case-insensitive when that is unambiguous)
    or by label in either language."""

    def __init__(self, values: Iterable[Any]):
        self.codes = tuple(getattr(v, "value", v) for v in values)
        self._exact = frozenset(self.codes)
        by: dict[str, set[str]] = {}
        for v in values:
            code = getattr(v, "value", v)
            by.setdefault(code.casefold(), set()).add(code)
            label = getattr(v, "label", None)
            for text in (getattr(label, "zh", None), getattr(label, "en", None)):
                if text:
                    by.setdefault(" ".join(text.split()).casefold(), set()).add(code)
        self._by = by
        self.words = ChoiceWords(values)

    def read(self, raw: Any) -> str:
        if isinstance(raw, str) and raw in self._exact:
            return raw
        text = read_text(raw).strip()
        if text in self._exact:
            return text
        found = self._by.get(" ".join(text.split()).casefold(), set())
        if len(found) == 1:
            return next(iter(found))
        if found:
            raise BadValue("choice_ambiguous", raw, choices=", ".join(sorted(found)))
        raise BadValue("choice", raw, choices=self.words)

    def read_many(self, raw: Any) -> list[str]:
        """Several values: a list, or text separated by `;` `,` `；` `，` `、`; in declared order."""
        items = raw if isinstance(raw, (list, tuple)) else [s for s in _LIST_SPLIT.split(read_text(raw)) if s.strip()]
        chosen = {self.read(i) for i in items}
        return [c for c in self.codes if c in chosen]


def read_duration(raw: Any) -> timedelta:
    """`2d`, `24h`, `30m` (minutes), `15min`, `1w`, `90s`, `3 days`, `2天`; a number is seconds."""
    if isinstance(raw, timedelta):
        return raw
    try:
        if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool):
            return timedelta(seconds=float(raw))
        if isinstance(raw, str):
            m = _DURATION.fullmatch(ascii_text(raw).lower())
            if m and m.group(2) in DURATION_UNITS:
                return timedelta(**{DURATION_UNITS[m.group(2)]: float(m.group(1))})
    except (OverflowError, ValueError):      # longer than timedelta holds (~2.7 million years), or not finite
        raise BadValue("duration_too_long", raw) from None
    raise BadValue("duration", raw)


def read_reference(raw: Any) -> Any:
    """A reference as written: a record's key or id, or its display name (the records service
    resolves them in bulk, runtime/records/writes.py)."""
    if isinstance(raw, bool):
        raise BadValue("reference", raw)
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    raise BadValue("reference", raw)
