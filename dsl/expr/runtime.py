"""What generated expression code calls at evaluation time, and EvaluationError.

Everything here is given the current time as an argument (the context key "$now", or the
clock passed to compile_expression); nothing reads the wall clock.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, DivisionByZero, InvalidOperation
from typing import Any, Callable, Iterator, Mapping, Sequence

from ..errors import BanyanError, catalog
from ..source import Span
from .values import Period, as_datetime, shift

NOW_KEY = "$now"

ARITHMETIC = Context(prec=28, rounding=ROUND_HALF_EVEN)
"""The language's decimal arithmetic (dsl/expr/README.md, "Arithmetic"): a result is rounded to 28
significant digits, half to even. It equals Python's default decimal context, which the generated
`+ − ×` use; division, round() and abs() name it explicitly. forms/static/forms.js does the same."""


class EvaluationError(BanyanError):
    """An expression failed on the data it was given (a function raised, a value of the wrong
    kind, no current time for a window). Carries the expression text and its source span.
    `reason` (missing, wrong_kind, division, bad_number, too_large, failed) picks its words in
    the catalogue; the Python exception behind it stays on `__cause__` for developers only."""
    code, status, namespace = "evaluation_failed", 422, "dsl"

    def __init__(self, message: str, *, text: str, span: Span, reason: str | None = None):
        super().__init__(message, key=None if reason is None else f"dsl.evaluation.{reason}",
                         params=None if reason is None else {"text": text})
        self.text, self.span, self.reason = text, span, reason
        self.args = (f"{span}: cannot evaluate `{text}`: {message}",)


def has_own_words(exc: BaseException) -> bool:
    """An evaluation error raised by a function with its own catalogue words (engine/fx.MissingRate,
    engine/graph NoCapitalFigure: which currency or date, what to do), rather than the
    language's generic ones: a person reads those words, whichever door refused."""
    if not isinstance(exc, EvaluationError) or exc.reason is not None:
        return False
    key = exc.message_key
    return not key.startswith("dsl.") and key in catalog()


def failure_reason(exc: BaseException) -> str:
    """What went wrong, in the catalogue's terms, never in Python's."""
    if isinstance(exc, (ZeroDivisionError, DivisionByZero)):
        return "division"
    if isinstance(exc, TypeError) and "NoneType" in str(exc):
        return "missing"
    if isinstance(exc, (TypeError, AttributeError)):
        return "wrong_kind"
    if isinstance(exc, OverflowError):
        return "too_large"
    if isinstance(exc, InvalidOperation):
        return "bad_number"
    return "failed"


_REASONS = {"division": "division by zero", "missing": "a value is missing (null) where the expression needs one",
            "wrong_kind": "a value is of the wrong kind", "too_large": "a number is out of range",
            "bad_number": "a number is not valid", "failed": "a function failed on this data"}


def make_failure(text: str, span: Span) -> Callable[[BaseException], EvaluationError]:
    def fail(exc: BaseException) -> EvaluationError:
        reason = failure_reason(exc)
        error = EvaluationError(_REASONS[reason], text=text, span=span, reason=reason)
        error.__cause__ = exc
        return error
    return fail


def make_now(text: str, span: Span, clock: Callable[[], date] | None) -> Callable[[Mapping], datetime]:
    def now(ctx: Mapping) -> datetime:
        value = ctx.get(NOW_KEY)
        if value is None and clock is not None:
            value = clock()
        if value is None:
            raise EvaluationError(f"no current time: put `{NOW_KEY}` in the context (or pass a clock)",
                                  text=text, span=span)
        if not isinstance(value, date):
            raise EvaluationError(f"`{NOW_KEY}` must be a date or datetime, got {type(value).__name__}",
                                  text=text, span=span)
        return as_datetime(value)
    return now


def div(a, b):
    """a / b; null when either is null or b is zero. Numbers give a decimal of at most 28
    significant digits, half to even (`7 / 2` is 3.5, `1 / 3` is 0.3333…3 with 28 threes)."""
    if a is None or b is None or not b:
        return None
    if isinstance(a, timedelta):
        return a / b if isinstance(b, timedelta) else a / float(b)
    if isinstance(a, (int, Decimal)) and isinstance(b, (int, Decimal)):
        return ARITHMETIC.divide(a, b)
    return a / b


def scale(a, b):
    """duration × number (either order)."""
    if a is None or b is None:
        return None
    if isinstance(a, timedelta):
        return a * float(b)
    return b * float(a)


def shift_by(a, b, sign: int):
    """date ± period / period + date."""
    if a is None or b is None:
        return None
    if isinstance(a, Period):
        a, b = b, a
    return shift(a, b, sign)


def avg(values: Sequence):
    if not values:
        return None
    return div(sum(values, Decimal(0) if isinstance(values[0], Decimal) else 0), len(values))


def smallest(values: Sequence):
    return min(values) if values else None


def largest(values: Sequence):
    return max(values) if values else None


def dt(value):
    return None if value is None else as_datetime(value)


def within(items: Sequence[Mapping] | None, time_field: str, span: timedelta | Period,
           now: datetime) -> list | None:
    """The records whose time lies in (now − span, now]; a date stands for its midnight."""
    if items is None or span is None:
        return None
    start = shift(now, span, -1)
    start_d, now_d = start.date(), now.date()  # for a date t: start < midnight(t) <= now ⟺ start_d < t <= now_d
    out = []
    for t, item in _dated(items, time_field):
        if type(t) is date:
            if start_d < t <= now_d:
                out.append(item)
        elif start < as_datetime(t) <= now:
            out.append(item)
    return out


def _dated(items: Sequence[Mapping], time_field: str) -> Iterator[tuple[Any, Mapping]]:
    """(time, record) of each record that has a time (a window's and `latest N`'s candidates)."""
    for item in items:
        if item is not None and (t := item.get(time_field)) is not None:
            yield t, item


def latest_n(items: Sequence[Mapping] | None, time_field: str, count: int, now: datetime) -> list | None:
    """`latest 2 of financials`: the `count` records with the newest time up to now, newest first
    (the last two statements filed, however late: by record, not by calendar; a record dated
    after now is not there yet). Records without a time are left out."""
    if items is None:
        return None
    now_d = now.date()
    dated: list[tuple[Any, Mapping]] = []
    moments = False                     # a datetime among them: every time compared as a datetime
    for t, item in _dated(items, time_field):
        if type(t) is date:
            if t <= now_d:
                dated.append((t, item))
        elif (t := as_datetime(t)) <= now:
            dated.append((t, item))
            moments = True
    if moments:
        dated = [(as_datetime(t), item) for t, item in dated]
    dated.sort(key=_first, reverse=True)          # stable: on a tie, the earlier in the list first
    return [item for _, item in dated[:count]]


def _first(pair: tuple) -> Any:
    return pair[0]


def latest(items: Sequence[Mapping] | None, time_field: str) -> Any:
    """The record with the greatest time (the later in the list on a tie); null if none has one."""
    if not items:
        return None
    try:
        return _latest_by(items, time_field, None)
    except TypeError:  # dates mixed with datetimes: compare every time as a datetime
        return _latest_by(items, time_field, as_datetime)


def _latest_by(items, time_field, convert):
    best, best_t = None, None
    for item in items:
        if item is None:
            continue
        t = item.get(time_field)
        if t is None:
            continue
        if convert is not None:
            t = convert(t)
        if best_t is None or t >= best_t:
            best, best_t = item, t
    return best


def project(items: Sequence[Mapping] | None, names: tuple[str, ...]) -> list | None:
    """`financials.revenue`: the field of every record (null where a record or a step is null)."""
    if items is None:
        return None
    out = []
    for item in items:
        value: Any = item
        for name in names:
            if value is None:
                break
            value = value.get(name)
        out.append(value)
    return out


HELPERS = {"_div": div, "_scale": scale, "_shift": shift_by, "_avg": avg, "_smallest": smallest,
           "_largest": largest, "_dt": dt, "_within": within, "_latest_n": latest_n, "_latest": latest, "_project": project,
           "_len": len, "_sum": sum, "_min": min, "_max": max, "_set": set}
