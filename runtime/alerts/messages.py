"""What an alert says: its message in both languages from the rule's template, and the type of
each evidence value stored beside it; and the texts of what a rule reads."""
from __future__ import annotations

import json
import logging
from typing import Any

from runtime.flows.store import plain
from runtime.jobs.templates import TemplateProblem, render_text

log = logging.getLogger("banyan.alerts")


def message_of(rule: Any, row: dict, grade: str | None, evidence: str) -> dict[str, str]:
    """The rule's message in both languages (`{{ subject.name }}` …); a text that cannot be
    rendered is kept as written, and logged."""
    values = {"subject": plain(row), "grade": grade, "rule": rule.name,
              "evidence": [e["value"] for e in json.loads(evidence)]}
    out = {}
    for lang in ("zh", "en"):
        text = getattr(rule.message, lang) or rule.message.text(lang)
        try:
            out[lang] = render_text(text, values, f"message of alert rule `{rule.name}`")
        except TemplateProblem as exc:
            log.warning("%s", exc.message)
            out[lang] = text
    return out


def evidence_types(rule: Any) -> list[str | None]:
    """The type of each evidence expression (money, percent …), as stored beside its value."""
    return [getattr(getattr(e.value, "type", None), "name", None) for e in rule.evidence]


def reads_text(rule: Any) -> str:
    """The texts of a rule's conditions and evidence (which collections to load for a batch)."""
    return " ".join([getattr(g.when, "text", "") for g in rule.grades]
                    + [getattr(e.value, "text", "") for e in rule.evidence])
