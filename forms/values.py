"""Form data (what a browser posts: text, checkboxes, files) → typed values, and back.

`parse(spec, submitted, lang)` returns the typed values of every editable field and the
problems found while reading them (a number that is not a number, an enum value that is not
listed, a file too large). Rules (required, ranges, checks) are `rules.py`'s job. Money and
plain numbers accept the units bankers type: `1.5亿`, `3000万`, `1,234.56`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from dsl.errors import BanyanError

from .i18n import file_size, message
from .spec import FieldSpec, FormSpec

_UNITS = {"亿": Decimal(10) ** 8, "万": Decimal(10) ** 4, "千": Decimal(1000)}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|h|m|s|min)\s*$")
_SECONDS = {"d": 86400, "h": 3600, "m": 60, "min": 60, "s": 1}
_ROW = re.compile(r"^([a-z][a-z0-9_]*)\.(\d{1,4})\.([a-z_][a-z0-9_]*)$")
TRUE_TEXT = {"on", "true", "1", "yes"}


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class FileLimits:
    """What an upload may be: at most `max_bytes`, with one of the `extensions`."""
    max_bytes: int = 10 * 1024 * 1024
    extensions: tuple[str, ...] = (".pdf", ".jpg", ".jpeg", ".png", ".xlsx", ".xls", ".docx", ".doc", ".csv", ".txt")


@dataclass(frozen=True)
class FieldError:
    path: tuple            # ("amount",) or ("sub_limits", 0, "amount") or () for the whole form
    message: str
    code: str

    @property
    def key(self) -> str:
        return ".".join(map(str, self.path))


@dataclass
class Submitted:
    """Posted form data: every name with its values (text, or an UploadedFile)."""
    values: dict[str, list[Any]] = field(default_factory=dict)

    @staticmethod
    def of(pairs: Iterable[tuple[str, Any]] | Mapping[str, Any]) -> "Submitted":
        out: dict[str, list[Any]] = {}
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        for name, value in items:
            for v in (value if isinstance(value, list) else [value]):
                out.setdefault(name, []).append(v)
        return Submitted(out)

    def get(self, name: str) -> Any:
        got = self.values.get(name)
        return got[-1] if got else None

    def getlist(self, name: str) -> list[Any]:
        return list(self.values.get(name, []))

    def has(self, name: str) -> bool:
        return name in self.values

    def row_indexes(self, table: str) -> list[int]:
        found = {int(m.group(2)) for n in self.values if (m := _ROW.match(n)) and m.group(1) == table}
        return sorted(found)


class BadInput(BanyanError):
    """A typed value that cannot be read: `code` is its catalogue entry `forms.<code>`."""
    status, namespace = 422, "forms"

    def __init__(self, code: str, **slots: Any):
        super().__init__("", code=code, params=slots)
        self.slots = slots
        self.args = (code,)


def parse_amount(text: str) -> Decimal:
    s = text.strip().replace(",", "").replace("，", "").replace(" ", "").replace("¥", "").replace("￥", "")
    s = s.removesuffix("元")
    factor = Decimal(1)
    if s and s[-1] in _UNITS:
        s, factor = s[:-1], _UNITS[s[-1]]
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise BadInput("number") from None
    if not d.is_finite():
        raise BadInput("number")
    return d * factor


def _decimal(f: Any, text: str) -> Decimal:
    d = parse_amount(text)
    if f.scale is not None:
        exponent = d.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > f.scale:
            raise BadInput("scale", limit=f.scale)
    return d


def parse_text(f: Any, text: str, tz: ZoneInfo) -> Any:
    """One typed value from one piece of text (None when empty); BadInput when unreadable."""
    t = f.type_name
    if t == "text":
        return text if text.strip() else None
    text = text.strip()
    if not text:
        return None
    if t in ("string", "ref", "file"):
        return text
    if t == "integer":
        s = text.replace(",", "")
        if not re.fullmatch(r"[+-]?\d{1,18}", s):
            raise BadInput("integer")
        return int(s)
    if t in ("number", "money"):
        return _decimal(f, text)
    if t == "percent":
        try:
            d = Decimal(text.removesuffix("%").strip().replace(",", ""))
        except InvalidOperation:
            raise BadInput("percent") from None
        if not d.is_finite():
            raise BadInput("percent")
        return d / 100
    if t == "bool":
        return text.lower() in TRUE_TEXT
    if t == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise BadInput("date") from None
    if t == "datetime":
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise BadInput("datetime") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        return moment.astimezone(timezone.utc)
    if t == "duration":
        m = _DURATION.match(text)
        if not m:
            raise BadInput("duration")
        return timedelta(seconds=float(m.group(1)) * _SECONDS[m.group(2)])
    if t == "enum":
        if text not in {v.value for v in f.values}:
            raise BadInput("choice")
        return text
    return text


def _upload(f: FieldSpec, name: str, sub: Submitted, limits: FileLimits) -> Any:
    got = sub.get(name)
    if isinstance(got, UploadedFile) and got.filename:
        ext = "." + got.filename.rsplit(".", 1)[-1].lower() if "." in got.filename else ""
        if ext not in limits.extensions:
            raise BadInput("file_type", limit=" ".join(limits.extensions))
        if len(got.data) > limits.max_bytes:
            raise BadInput("file_size", limit=file_size(limits.max_bytes))
        return got
    if (sub.get(name + ".__remove") or "") in TRUE_TEXT:
        return None
    current = sub.get(name + ".__current")
    return current if isinstance(current, str) and current else None


def parse_field(f: FieldSpec, name: str, sub: Submitted, tz: ZoneInfo, limits: FileLimits) -> Any:
    t = f.type
    if t == "bool":
        return any(isinstance(v, str) and v.lower() in TRUE_TEXT for v in sub.getlist(name))
    if t == "multi_enum":
        allowed = {v.value for v in f.field.values}
        chosen = [v for v in sub.getlist(name) if isinstance(v, str) and v]
        if any(v not in allowed for v in chosen):
            raise BadInput("choice")
        ordered = [v.value for v in f.field.values if v.value in chosen]
        return ordered or None
    if t == "file":
        return _upload(f, name, sub, limits)
    raw = sub.get(name)
    if raw is None or not isinstance(raw, str):
        return None
    return parse_text(f.field, raw, tz)


def row_is_blank(table: FieldSpec, prefix: str, sub: Submitted) -> bool:
    for col in table.columns:
        for v in sub.getlist(f"{prefix}.{col.name}"):
            if isinstance(v, UploadedFile) and v.filename:
                return False
            if isinstance(v, str) and v.strip() and not (col.type == "bool" and v.lower() not in TRUE_TEXT):
                return False
    return True


def parse_rows(table: FieldSpec, sub: Submitted, lang: str, tz: ZoneInfo, limits: FileLimits,
               problems: list[FieldError]) -> list[dict]:
    """The sub-table's rows in order; blank rows and rows marked for removal are left out."""
    rows: list[dict] = []
    for i in sub.row_indexes(table.name):
        prefix = f"{table.name}.{i}"
        if (sub.get(prefix + "._delete") or "") in TRUE_TEXT or row_is_blank(table, prefix, sub):
            continue
        row: dict[str, Any] = {}
        pos = len(rows)
        for col in table.columns:
            if not col.editable:
                continue
            try:
                row[col.name] = parse_field(col, f"{prefix}.{col.name}", sub, tz, limits)
            except BadInput as exc:
                row[col.name] = None
                problems.append(FieldError((table.name, pos, col.name), message(exc.code, lang, **exc.slots), exc.code))
        rows.append(row)
    return rows


def parse(spec: FormSpec, sub: Submitted, lang: str = "zh", *, tz: str = "Asia/Shanghai",
          limits: FileLimits = FileLimits()) -> tuple[dict[str, Any], list[FieldError]]:
    """Typed values of the editable fields, and the problems met reading them."""
    zone = ZoneInfo(tz)
    values: dict[str, Any] = {}
    problems: list[FieldError] = []
    for f in spec.fields:
        if not f.editable:
            continue
        if f.is_table:
            values[f.name] = parse_rows(f, sub, lang, zone, limits, problems)
            continue
        try:
            values[f.name] = parse_field(f, f.name, sub, zone, limits)
        except BadInput as exc:
            values[f.name] = None
            problems.append(FieldError((f.name,), message(exc.code, lang, **exc.slots), exc.code))
    return values, problems
