"""IR building blocks shared by every kind: labels, metadata. Frozen; each carries its span."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .source import Span


@dataclass(frozen=True, slots=True)
class Label:
    zh: str | None = None
    en: str | None = None

    def text(self, lang: str = "zh") -> str:
        return (self.zh if lang == "zh" else self.en) or self.zh or self.en or ""

    @staticmethod
    def of(value: Any) -> "Label":
        if isinstance(value, Mapping):
            return Label(value.get("zh"), value.get("en"))
        if isinstance(value, str):
            return Label(zh=value)
        return Label()


@dataclass(frozen=True, slots=True)
class Metadata:
    kind: str
    name: str
    label: Label
    description: str | None
    owner: str | None
    span: Span
    file: str
