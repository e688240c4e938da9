"""`banyan alerts explain` and the alert page's trace: one subject's context read as a scan reads
it, at a moment, handed to engine/alerts/explain (the semantics are there)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

from dsl.errors import words
from dsl.expr.trace import NOT_EVALUATED
from engine.alerts.explain import Explanation, explain
from forms.display import value_text
from runtime.alerts import circles
from runtime.alerts.store import AlertError
from runtime.auth.scope import Scope
from runtime.records.context import Loader
from runtime.records.errors import NotFound
from runtime.records.store import keys_to_ids


def explain_subject(service: Any, rule_name: str, subject: Any = None, *, subject_id: int | None = None,
                    at: datetime | None = None, scope: Scope | None = None) -> tuple[Explanation, dict]:
    """Why `subject` (its key, `GC123` for a guarantee circle; or its record id) has its grade
    under `rule_name` at `at` (default now). Out of the reader's scope reads as unknown.
    Returns the explanation and {entity, id, key, name} of the subject."""
    live = service.records.refresh()
    [rule] = service.rules(live, [rule_name])
    at = at or service.clock()
    entity = rule.scope
    with service.engine.connect() as conn:
        if subject_id is None:
            if entity == circles.CIRCLE:
                text = str(subject)
                subject_id = int(text[2:]) if text[:2] == "GC" and text[2:].isdigit() else None
            else:
                subject_id = keys_to_ids(conn, live, entity, [subject]).get(subject)
        if subject_id is None:
            raise _unknown(conn, live, rule, subject)
        if scope is not None and entity != circles.CIRCLE:
            try:
                service.records.get(entity, subject_id, scope=scope)
            except NotFound:
                raise _unknown(conn, live, rule, subject) from None
        loader = Loader(conn, live)
        loader.given("$now", at)
        ctx = service.context_of(loader, entity, subject_id)
        if ctx is None:
            raise _unknown(conn, live, rule, subject)
        row = dict(ctx.values)
        key = row.get("key") if entity == circles.CIRCLE else row.get(live.model[entity].key)
        fields = live.bundle.entities.get(circles.FIRM if entity == circles.CIRCLE else entity)
        labels = {f.name: f.label for f in fields.fields} if fields is not None and entity != circles.CIRCLE else {}
        about = {"entity": entity, "id": subject_id, "key": key, "name": row.get("name"), "at": at, "labels": labels}
        return explain(rule, ctx), about


def _unknown(conn: Any, live: Any, rule: Any, subject: Any) -> AlertError:
    """No such subject; when the key is the record the rule rolls up to (a group), say so."""
    up = rule.roll_up.entity if rule.roll_up is not None else None
    if up and subject is not None and keys_to_ids(conn, live, up, [subject]).get(subject) is not None:
        return AlertError(f"`{subject}` is a {up}: `{rule.name}` watches each {rule.scope} and rolls their alerts up "
                          f"to the {up}; explain one of its members", code="unknown_subject", status=404)
    return AlertError(f"no {rule.scope} `{subject}` for rule `{rule.name}`", code="unknown_subject", status=404)


def shown(value: Any, kind: str, lang: str) -> str:
    if value is NOT_EVALUATED:
        return words("alerts.trace.skipped", lang)
    if isinstance(value, list):
        return words("alerts.trace.records", lang, n=len(value))
    if isinstance(value, Mapping):
        return str(value.get("name") or value.get("key") or words("alerts.trace.record", lang))
    if isinstance(value, bool):
        return words("alerts.trace.true" if value else "alerts.trace.false", lang)
    if value is None:
        return "null"
    return value_text(value, kind, lang)


def verdict(holds: bool | None, lang: str) -> str:
    return words({True: "alerts.trace.holds", False: "alerts.trace.fails", None: "alerts.trace.unknown"}[holds], lang)


def steps_view(trace: Any, labels: Mapping[str, Any], lang: str) -> list[dict]:
    """Each sub-expression of a traced condition with its value as people read it; a step that
    reads one of the subject's fields carries the field's label."""
    return [{"text": s.text, "type": s.type, "depth": s.depth, "evaluated": s.evaluated, "null": s.value is None,
             "value": shown(s.value, s.type, lang), "label": labels[s.text].text(lang) if s.text in labels else ""}
            for s in trace.steps]


def near_view(near: Any, lang: str) -> list[dict]:
    """The comparisons that kept a condition from holding, and how far they are from it."""
    return [{"text": n.text, "value": shown(n.value, n.type, lang), "threshold": shown(n.threshold, n.type, lang),
             "gap": shown(n.gap, n.type, lang),
             "words": words("alerts.trace.gap", lang, left=n.left, value=shown(n.value, n.type, lang), op=n.op,
                            threshold=shown(n.threshold, n.type, lang), gap=shown(n.gap, n.type, lang))}
            for n in near]


def explanation_view(exp: Explanation, about: Mapping[str, Any], lang: str,
                     labels: Mapping[str, Any] | None = None) -> dict:
    """The explanation as the API sends it and the pages and the CLI show it, in `lang`: every
    value as people read it (70%, 6,234万, null), what was not evaluated said so; a step that
    reads one of the subject's fields carries the field's label (`labels`: field → Label)."""
    labels = labels if labels is not None else about.get("labels") or {}
    grades = []
    for g in exp.grades:
        grades.append({"grade": g.grade, "holds": g.holds, "verdict": verdict(g.holds, lang), "error": g.trace.error,
                       "steps": steps_view(g.trace, labels, lang), "near": near_view(g.near, lang)})
    evidence = [{"label": label.text(lang) if hasattr(label, "text") else str(label),
                 "value": shown(value, _kind(exp, i), lang), "error": error}
                for i, (label, value, error) in enumerate(exp.evidence)]
    at = about.get("at")
    return {"rule": exp.rule, "grade": exp.finding.grade,
            "subject": {"entity": about["entity"], "key": about["key"], "name": about.get("name"),
                        "at": at.isoformat() if hasattr(at, "isoformat") else at},
            "grades": grades, "evidence": evidence}


def _kind(exp: Explanation, i: int) -> str:
    kinds = getattr(exp, "evidence_types", ())
    return kinds[i] if i < len(kinds) else ""
