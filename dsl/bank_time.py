"""The bank's time zone and how a moment reads: one place every door uses.

Banyan stores moments in UTC. People read them on the bank's wall clock: `BANYAN_TIMEZONE`
(an IANA name such as `Asia/Shanghai`, the default; an unknown name falls back to the default,
and `banyan status` says so). Pages, CLI listings, forms and flow deadlines all go through
`bank_timezone()` and `moment_text()` — forms receive the zone name as a parameter
(`zone_name()`), and the engine receives the zone with the calendar.
"""
from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"
ENV = "BANYAN_TIMEZONE"


@lru_cache(maxsize=8)
def _zone(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def configured_zone() -> str:
    """What BANYAN_TIMEZONE says (the default when unset), even when it names no zone."""
    return os.environ.get(ENV, "").strip() or DEFAULT_ZONE


def zone_problem() -> str | None:
    """Why the configured zone is not used (an unknown name), or None."""
    name = configured_zone()
    if _zone(name) is None:
        return f"{ENV}={name!r} is not a known time zone; times are shown in {DEFAULT_ZONE}"
    return None


def zone_name() -> str:
    """The IANA name of the bank's time zone (what forms take as `tz`)."""
    name = configured_zone()
    return name if _zone(name) is not None else DEFAULT_ZONE


def bank_timezone() -> tzinfo:
    """The bank's time zone (Asia/Shanghai unless BANYAN_TIMEZONE says otherwise)."""
    return _zone(zone_name()) or timezone(timedelta(hours=8))


def bank_today(now: datetime | None = None) -> date:
    """Today on the bank's wall clock (`now`, an aware or naive-UTC moment, else the clock's). Between
    midnight and 08:00 in Shanghai a UTC server is still on yesterday; a rate, a deadline or a
    report "of today" means the bank's day."""
    moment = now if now is not None else datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(bank_timezone()).date()


def bank_day_starts(day: date) -> datetime:
    """The moment the bank's `day` begins, as Banyan stores moments (naive UTC): 2026-12-05 in
    Shanghai begins at 2026-12-04 16:00 UTC."""
    start = datetime.combine(day, time(), tzinfo=bank_timezone())
    return start.astimezone(timezone.utc).replace(tzinfo=None)


def as_zone(tz: str | tzinfo | None) -> tzinfo:
    """A zone from a name, a zone, or None (the bank's)."""
    if tz is None:
        return bank_timezone()
    if isinstance(tz, str):
        return _zone(tz) or bank_timezone()
    return tz


def bank_time(value: datetime | str | None, tz: str | tzinfo | None = None) -> datetime | None:
    """`value` on the bank's wall clock. A naive moment is UTC (as Banyan stores it); text is ISO
    8601. None (or text that is no moment) gives None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    moment = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
    return moment.astimezone(as_zone(tz))


def zone_abbrev(moment: datetime) -> str:
    """How the zone reads beside a time: `UTC+08:00` (the offset is unambiguous; `CST` is not)."""
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def moment_text(value: datetime | str | None, tz: str | tzinfo | None = None, *, seconds: bool = False,
                zone: bool = False, input: bool = False) -> str:
    """A moment as people read it: `2026-10-09 09:30` on the bank's clock (`seconds`: `…:30:05`;
    `zone`: `… UTC+08:00`; `input`: `2026-10-09T09:30` for a datetime-local input). Empty for
    None; text that is no moment is returned as it is."""
    moment = bank_time(value, tz)
    if moment is None:
        return "" if value is None or value == "" else str(value)
    if input:
        return moment.strftime("%Y-%m-%dT%H:%M")
    text = moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
    return f"{text} {zone_abbrev(moment)}" if zone else text


def zone_label(tz: str | tzinfo | None = None) -> str:
    """The zone for a page footer or a listing's header: `Asia/Shanghai (UTC+08:00)`."""
    zone = as_zone(tz)
    name = getattr(zone, "key", None) or str(zone)
    return f"{name} ({zone_abbrev(datetime.now(zone))})"
