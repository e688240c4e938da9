"""Dates and date-times as people write them: `2018-05-01`, `2018/5/1`, `2018.5.1`, `2018年5月1日`,
`20180501`, with a time `2018-05-01 09:30[:00]` or ISO `2018-05-01T09:30:00+08:00`; and the serial
numbers Excel stores in a cell (the 1900 system, with its phantom 1900-02-29)."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

from .errors import BadValue

_DATE = re.compile(r"(\d{4})(?:([-/.])(\d{1,2})\2(\d{1,2})|年(\d{1,2})月(\d{1,2})[日号]?|(\d{2})(\d{2}))")
_TIME = re.compile(r"(?:[T\s]+|[日号]?\s*)(\d{1,2})[:：时](\d{1,2})(?:[:：分](\d{1,2})(?:[.,](\d{1,6}))?秒?)?分?"
                   r"\s*(Z|[+-]\d{2}:?\d{2})?")
_EXCEL_EPOCH = date(1899, 12, 30)      # serial 1 is 1900-01-01 once the phantom 1900-02-29 is skipped
_EXCEL_MAX = 2958465                   # 9999-12-31


_SEPARATORS = {ord("／"): "/", ord("："): ":"}
_DIGITS = {ord("０") + i: ord("0") + i for i in range(10)} | {ord("．"): ".", ord("－"): "-", ord("＋"): "+"}


def _wide(text: str) -> str:
    """Full-width digits and separators made ASCII, outer spaces dropped (inner ones kept: they
    separate a date from its time)."""
    if text.isascii():                     # nothing full-width (the commonest cell)
        return " ".join(text.split())
    return " ".join(text.translate(_SEPARATORS).split()).translate(_DIGITS)


def _date_part(text: str, raw: Any, code: str) -> tuple[date, str]:
    """(date, the rest of the text) from text that starts with a date."""
    m = _DATE.match(text)
    if m is None:
        raise BadValue(code, raw)
    y, mo, d = m.group(1), m.group(3) or m.group(5) or m.group(7), m.group(4) or m.group(6) or m.group(8)
    try:
        return date(int(y), int(mo), int(d)), text[m.end():]
    except ValueError:
        raise BadValue("no_such_date", raw) from None


def excel_serial(raw: Any, code: str = "date") -> datetime:
    """An Excel serial day number (the 1900 system) as a naive date-time. Excel counts a
    1900-02-29 that never was: serial 60 is refused, and serials before it are shifted by a day."""
    d = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    if not d.is_finite() or d < 1 or d >= _EXCEL_MAX + 1:
        raise BadValue("excel_serial", raw)
    days = int(d)
    if days == 60:
        raise BadValue("excel_serial", raw)
    if days < 60:
        days += 1
    seconds = round((d - int(d)) * 86400)
    return datetime.combine(_EXCEL_EPOCH, time(0)) + timedelta(days=days, seconds=seconds)


def read_date(raw: Any, *, excel: bool = False) -> date:
    """A calendar date. A date-time is accepted only at midnight (its time would be lost)."""
    if isinstance(raw, datetime):
        if raw.time() != time(0):
            raise BadValue("date_has_time", raw)
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool):
        if excel:
            return read_date(excel_serial(raw))
        if isinstance(raw, int) and 10000101 <= raw <= 99991231:        # 20180501
            return read_date(str(raw))
        raise BadValue("date", raw)
    if not isinstance(raw, str):
        raise BadValue("date", raw)
    text = _wide(raw)
    day, rest = _date_part(text, raw, "date")
    if rest.strip():
        moment = read_datetime(raw, tz=timezone.utc)
        if moment.time() != time(0):
            raise BadValue("date_has_time", raw)
    return day


def read_datetime(raw: Any, *, tz: tzinfo = timezone.utc, excel: bool = False,
                  naive_is_local: bool = False) -> datetime:
    """A moment, in UTC. Text without an offset is the bank's local time `tz`; a Python datetime
    without one is UTC (the runtime's own values), unless `naive_is_local` (an Excel cell)."""
    if isinstance(raw, datetime):
        moment = raw
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz if naive_is_local else timezone.utc)
        return moment.astimezone(timezone.utc)
    if isinstance(raw, date):
        return read_datetime(datetime.combine(raw, time(0)), tz=tz, naive_is_local=naive_is_local)
    if isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool) and excel:
        return read_datetime(excel_serial(raw, "datetime"), tz=tz, naive_is_local=True)
    if not isinstance(raw, str):
        raise BadValue("datetime", raw)
    text = _wide(raw)
    day, rest = _date_part(text, raw, "datetime")
    if not rest.strip():
        return datetime.combine(day, time(0), tzinfo=tz).astimezone(timezone.utc)
    m = _TIME.fullmatch(rest)
    if m is None:
        raise BadValue("datetime", raw)
    hh, mm, ss, frac, offset = m.groups()
    try:
        clock = time(int(hh), int(mm), int(ss or 0), int((frac or "0").ljust(6, "0")))
    except ValueError:
        raise BadValue("datetime", raw) from None
    zone: tzinfo = tz
    if offset == "Z":
        zone = timezone.utc
    elif offset:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return datetime.combine(day, clock, tzinfo=zone).astimezone(timezone.utc)
