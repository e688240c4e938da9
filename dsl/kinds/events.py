"""Events that start work: `RECORD.VERB`, where RECORD is `subject`, a collection of the
subject (financials), an entity (external_event) or `alert`, and VERB says what happened."""
from __future__ import annotations

from dsl.diagnostics import did_you_mean
from dsl.expr.types import RecordType
from dsl.link import LinkContext
from dsl.loader import Document, Path

RECORD_VERBS = ("created", "updated", "deleted", "changed")
ALERT_VERBS = ("opened", "escalated", "closed")

EVENT = {"type": "string", "pattern": r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$",
         "description": "An event RECORD.VERB: RECORD is `subject`, a collection of the subject or an entity, and "
                        "VERB created, updated, deleted or changed (financials.updated); or alert.opened, "
                        "alert.escalated, alert.closed for the subject's alerts.",
         "x-hint": "write RECORD.VERB, e.g. financials.updated or alert.opened"}


def event_entity(ctx: LinkContext, subject: str | None, noun: str) -> str | None:
    """The entity an event's RECORD names: `subject`, a collection of the subject, or an entity."""
    if noun == "subject" and subject:
        return subject
    info = ctx.decls.records.get(subject or "", {}).get(noun)
    element = getattr(getattr(info, "type", None), "element", None)
    if isinstance(element, RecordType):
        return element.entity
    if ctx.exists("Entity", noun):
        return noun
    return None


def check_event(ctx: LinkContext, doc: Document, path: Path, subject: str | None, event: str,
                alerts: bool = False) -> str | None:
    """The entity of the event written at path (None for alert events or when it is reported)."""
    noun, _, verb = event.partition(".")
    if alerts and noun == "alert":
        if verb not in ALERT_VERBS:
            ctx.diags.add("BNY401", f"unknown alert event `{verb}`", doc.span(path),
                          did_you_mean(verb, ALERT_VERBS) or f"alert events: {', '.join(ALERT_VERBS)}")
        return None
    if verb not in RECORD_VERBS:
        ctx.diags.add("BNY401", f"unknown event `{verb}` in `{event}`", doc.span(path),
                      did_you_mean(verb, RECORD_VERBS) or f"events: {', '.join(RECORD_VERBS)}")
        return None
    entity = event_entity(ctx, subject, noun)
    if entity is None:
        known = set(ctx.decls.records.get(subject or "", {})) | set(ctx.decls.names("Entity")) | {"subject"}
        ctx.diags.add("BNY401", f"`{noun}` is neither a collection of the subject nor an entity", doc.span(path),
                      did_you_mean(noun, known) or "write e.g. subject.updated")
    return entity
