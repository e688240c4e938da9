"""A view section's content over a subject's record context (any Mapping of field values, whose
collections are lists of such mappings): the subject's fields, the metrics with their warnings, and
a table's or a timeline's rows — `rows`, then `where`, then the order (`sort`; a timeline: newest
first by its entity's time field), then one page of `limit` rows.

Nothing here formats a value or knows who reads it: the runtime cuts the data to the reader's scope
before, and the doors turn values into text after. An expression that fails on the data (a value of
the wrong kind, a division by zero) leaves its figure empty and marks it `failed`; it never stops
the page, and its words are the runtime's to choose (no exception text travels)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Iterator, Mapping, Sequence

from dsl.expr import EvaluationError
from dsl.ir import Label
from dsl.kinds.view import ViewSection

DEFAULT_LIMIT = 20                 # rows on a page when a section gives no `limit`


@dataclass(frozen=True)
class MetricResult:
    label: Label
    value: Any
    type: str | None                # the expression's type name: money, percent, integer …
    warn: bool = False              # `warn_when` holds
    withheld: bool = False          # the reader may not see this figure (it sums records beyond their scope)
    failed: bool = False            # the expression could not be evaluated on this data


@dataclass(frozen=True)
class RowsResult:
    rows: list[Mapping[str, Any]]   # the page's rows, in order
    total: int                      # rows after `where`, before paging
    page: int
    pages: int
    limit: int
    failed: bool = False
    columns: tuple[str, ...] = field(default=())


def _type_name(expr: Any) -> str | None:
    t = getattr(expr, "type", None)
    return getattr(t, "name", None)


def field_values(section: ViewSection, subject: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(name, value) of each field the section shows, in its order (a field the subject lacks: None)."""
    return [(name, subject.get(name)) for name in section.fields]


def _reads(expr: Any) -> set[str]:
    """The names an expression reads at its root (a path's first step, `subject.x` as `x`)."""
    out: set[str] = set()
    for path in getattr(expr, "paths", ()) or ():
        if path and path[0] == "subject" and len(path) > 1:
            out.add(path[1])
        elif path:
            out.add(path[0])
    return out | set(getattr(expr, "names", ()) or ())


def metric_results(section: ViewSection, subject: Mapping[str, Any],
                   withheld: Iterable[str] = ()) -> list[MetricResult]:
    """Each metric's value and whether its `warn_when` holds (seeing the value as `value`). A metric
    reading any name in `withheld` (figures over records the reader may not all see) is withheld:
    no value, no warning — never a partial sum passed off as the whole."""
    hidden = set(withheld)
    out = []
    for m in section.metrics:
        kind = _type_name(m.value)
        if m.value is None:
            out.append(MetricResult(m.label, None, kind, failed=True))
            continue
        if hidden & _reads(m.value):
            out.append(MetricResult(m.label, None, kind, withheld=True))
            continue
        try:
            value = m.value(subject)
        except EvaluationError:
            out.append(MetricResult(m.label, None, kind, failed=True))
            continue
        warn = False
        if m.warn_when is not None and value is not None:
            try:
                warn = m.warn_when.test(_Scope(subject, {"value": value}))
            except EvaluationError:
                warn = False
        out.append(MetricResult(m.label, value, kind, warn=warn))
    return out


class _Scope(Mapping[str, Any]):
    """The subject's names with a few more on top (`value` for a metric's `warn_when`)."""

    def __init__(self, base: Mapping[str, Any], extra: Mapping[str, Any]):
        self.base, self.extra = base, extra

    def __getitem__(self, name: str) -> Any:
        return self.extra[name] if name in self.extra else self.base[name]

    def __iter__(self) -> Iterator[str]:
        yield from self.extra
        yield from (k for k in self.base if k not in self.extra)

    def __len__(self) -> int:
        return len(set(self.extra) | set(self.base))


def _key(value: Any) -> tuple[int, Any]:
    """An order over mixed values: numbers together, then dates, then text (nulls are placed by
    the caller)."""
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float, Decimal)):
        return (0, value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return (1, moment.timestamp())
    if isinstance(value, date):
        return (1, datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp())
    return (2, str(value))


def sort_rows(rows: Sequence[Mapping[str, Any]], by: str, order: str = "asc") -> list[Mapping[str, Any]]:
    """`rows` ordered by field `by` (`asc` or `desc`), rows without a value last either way; the
    order is stable, so rows with equal values keep the order they came in."""
    keyed = [(r.get(by), r) for r in rows]
    present = [(_key(v), r) for v, r in keyed if v is not None]
    present.sort(key=lambda kr: kr[0], reverse=order == "desc")
    return [r for _, r in present] + [r for v, r in keyed if v is None]


def page_of(rows: Sequence[Mapping[str, Any]], page: int, limit: int) -> tuple[list[Mapping[str, Any]], int, int]:
    """(the rows of page `page` (from 1, clamped to the pages there are), that page, how many pages)."""
    limit = max(1, limit)
    pages = max(1, math.ceil(len(rows) / limit))
    page = min(max(1, page), pages)
    start = (page - 1) * limit
    return list(rows[start:start + limit]), page, pages


def section_rows(section: ViewSection, subject: Mapping[str, Any], *, page: int = 1,
                 time_field: str | None = None) -> RowsResult:
    """A table's or a timeline's rows: `rows` evaluated on the subject, kept where `where` holds
    (a null condition does not hold), ordered by `sort` — a timeline by `time_field`, newest first,
    unless it has its own `sort` — and cut to page `page` of `limit` rows."""
    limit = section.limit or DEFAULT_LIMIT
    if section.rows is None:
        return RowsResult([], 0, 1, 1, limit, failed=True, columns=section.columns)
    try:
        found = list(section.rows(subject) or [])
        if section.where is not None:
            found = [r for r in found if section.where.test(r)]
    except EvaluationError:
        return RowsResult([], 0, 1, 1, limit, failed=True, columns=section.columns)
    if section.sort is not None:
        found = sort_rows(found, *section.sort)
    elif section.type == "timeline" and time_field:
        found = sort_rows(found, time_field, "desc")
    shown, page, pages = page_of(found, page, limit)
    return RowsResult(shown, len(found), page, pages, limit, columns=section.columns)
