"""The Calendar kind: the bank's own days off and days worked, on top of China's public holidays.

The public holidays and make-up working days (调休) come from the State Council's yearly notice,
through the maintained `chinese-calendar` package (runtime/flows/calendar.py). A Calendar
document adds what is the bank's own: a day the bank closes (`holidays`), a weekend day it works
(`workdays`). Where the two disagree the bank's file wins. `covers_years` says which years the
file lists in full — every public holiday and make-up day as well — so that deadlines in a year
the package does not know yet still count real working days; `beyond_known_years` says what a
deadline past the last known day does: `weekdays` (count Monday–Friday plus the listed days, and
say so in logs and `banyan status`) or `refuse` (the command is refused until the year is added).

Several Calendar documents merge (one per year is fine); they must not disagree on a day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from dsl.ir import Label, Metadata
from dsl.kinds.common import LABEL, envelope
from dsl.kinds.meta import metadata_of
from dsl.kinds.parts import as_dict, as_list, spec_of
from dsl.kinds.registry import KindDef, register
from dsl.link import LinkContext
from dsl.loader import Document, Path
from dsl.source import Span

BEYOND = ["weekdays", "refuse"]
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$", "description": "A day, written YYYY-MM-DD.",
         "x-hint": "write the day as YYYY-MM-DD, e.g. 2026-12-31"}

DAY = {"type": "object", "required": ["date"], "additionalProperties": False,
       "properties": {"date": _DATE, "label": {**LABEL, "description": "Why: 年终决算日 / Year-end closing."}}}

CALENDAR_SPEC = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "holidays": {"type": "array", "items": DAY,
                     "description": "Days the bank does not work although the public calendar does (a weekday the "
                                    "bank closes), or public holidays of a year the holiday package does not know yet."},
        "workdays": {"type": "array", "items": DAY,
                     "description": "Weekend days the bank works: its own, or the make-up working days (调休上班) of "
                                    "a year the holiday package does not know yet."},
        "covers_years": {"type": "array", "uniqueItems": True,
                         "items": {"type": "integer", "minimum": 2000, "maximum": 2100},
                         "description": "Years this file lists in full (every public holiday and make-up working day), "
                                        "so business days in them are known, not guessed."},
        "beyond_known_years": {"enum": BEYOND, "default": "weekdays",
                               "description": "A business-day deadline past the last known day: `weekdays` counts "
                                              "Monday–Friday plus the days listed here and says so (logs, `banyan "
                                              "status`); `refuse` refuses the command until the year is added."},
    },
}


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    label: Label
    span: Span


@dataclass(frozen=True)
class BankCalendar:
    """The IR of one Calendar document."""
    meta: Metadata
    holidays: tuple[CalendarDay, ...]
    workdays: tuple[CalendarDay, ...]
    covers_years: tuple[int, ...]
    beyond_known_years: str
    span: Span

    @property
    def name(self) -> str:
        return self.meta.name


def _days(doc: Document, ctx: LinkContext, key: str, seen: dict[date, tuple[str, Span]]) -> tuple[CalendarDay, ...]:
    out = []
    for i, item in enumerate(as_list(spec_of(doc).get(key))):
        path: Path = ("spec", key, i, "date")
        text = as_dict(item).get("date")
        if not isinstance(text, str):
            continue
        try:
            day = date.fromisoformat(text)
        except ValueError:
            ctx.diags.add("BNY308", f"`{text}` is not a real calendar day", doc.span(path),
                          "write an existing day as YYYY-MM-DD")
            continue
        span = doc.span(path)
        if day in seen:
            other, where = seen[day]
            if other == key:
                ctx.diags.add("BNY402", f"{text} is listed twice in `{key}`", span,
                              f"it is already listed at line {where.line}; remove one")
            else:
                ctx.diags.add("BNY210", f"{text} is listed both as a holiday and as a working day", span,
                              f"it is in `{other}` at line {where.line}; keep it in one list")
            continue
        seen[day] = (key, span)
        out.append(CalendarDay(day, Label.of(as_dict(item).get("label")), span))
    return tuple(out)


def _others(doc: Document, ctx: LinkContext) -> dict[date, tuple[str, str]]:
    """The days of the Calendar documents named before this one: {day: (list, document name)}."""
    out: dict[date, tuple[str, str]] = {}
    for (kind, name), other in sorted(ctx.decls.documents.items()):
        if kind != "Calendar" or name >= (doc.name or ""):
            continue
        for key in ("holidays", "workdays"):
            for item in as_list(spec_of(other).get(key)):
                try:
                    out.setdefault(date.fromisoformat(str(as_dict(item).get("date"))), (key, name))
                except ValueError:
                    pass
    return out


def _build(doc: Document, ctx: LinkContext) -> BankCalendar:
    spec = spec_of(doc)
    seen: dict[date, tuple[str, Span]] = {}
    holidays = _days(doc, ctx, "holidays", seen)
    workdays = _days(doc, ctx, "workdays", seen)
    others = _others(doc, ctx)
    for key, days in (("holidays", holidays), ("workdays", workdays)):
        for d in days:
            if d.day in others and others[d.day][0] != key:
                ctx.diags.add("BNY210", f"{d.day.isoformat()} is a {key[:-1]} here but in `{others[d.day][0]}` of "
                                        f"Calendar `{others[d.day][1]}`", d.span,
                              "Calendar documents merge; keep the day in one list of one document")
    years = tuple(sorted(int(y) for y in as_list(spec.get("covers_years")) if isinstance(y, int)))
    return BankCalendar(metadata_of(doc), holidays, workdays, years, str(spec.get("beyond_known_years", "weekdays")),
                        doc.span(("metadata", "name")))


def merged(calendars: Any) -> dict[str, Any]:
    """Every Calendar document of a bundle as one: holidays and workdays {day: label}, the years
    covered, and the strictest `beyond_known_years` (one `refuse` refuses)."""
    holidays: dict[date, Label] = {}
    workdays: dict[date, Label] = {}
    years: set[int] = set()
    beyond = "weekdays"
    for cal in calendars:
        holidays.update((d.day, d.label) for d in cal.holidays)
        workdays.update((d.day, d.label) for d in cal.workdays)
        years.update(cal.covers_years)
        if cal.beyond_known_years == "refuse":
            beyond = "refuse"
    return {"holidays": holidays, "workdays": workdays, "covers_years": tuple(sorted(years)), "beyond": beyond}


CALENDAR = register(KindDef(
    kind="Calendar",
    schema=envelope("Calendar", CALENDAR_SPEC, "The bank's own holidays and working days, over China's public "
                                               "holiday calendar (调休 included); the bank's file wins."),
    build=_build, order=5,
    summary="The bank's business days: its own days off and days worked over China's public holidays (调休).",
    scaffold="""\
spec:
  holidays:
    - {date: 2026-12-31, label: {zh: 年终决算日, en: Year-end closing}}
  workdays: []
  beyond_known_years: weekdays
""",
))
