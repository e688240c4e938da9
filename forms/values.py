"""Form data (what a browser posts: text, checkboxes, files) → typed values, and back.

`parse(spec, submitted, lang)` returns the typed values of every editable field and the
problems found while reading them (a number that is not a number, an enum value that is not
listed, a file too large). Rules (required, ranges, checks) are `rules.py`'s job. Every typed
value is read by the one value model (dsl/values), as the API, the CLI and imports read it:
`1.5亿`, `3000万`, `1,234.56`, a percent typed as `70`, dates such as `2018/5/1`, enum labels.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from dsl.errors import BanyanError
from dsl.values import TRUE_WORDS, BadValue, Choices, read_amount, value_reader

from .i18n import file_size
from .spec import FieldSpec, FormSpec

_ROW = re.compile(r"^([a-z][a-z0-9_]*)\.(\d{1,4})\.([a-z_][a-z0-9_]*)$")
TRUE_TEXT = TRUE_WORDS                 # a checkbox posts "on"; a select or a script may post 是, true, 1, yes


def _true(v: Any) -> bool:
    return isinstance(v, str) and v.strip().lower() in TRUE_TEXT


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
    """An upload the form refuses (type, size): `code` is its catalogue entry `forms.<code>`.
    A value that cannot be read is dsl.values.BadValue, the same at every door."""
    status, namespace = 422, "forms"

    def __init__(self, code: str, **slots: Any):
        super().__init__("", code=code, params=slots)
        self.slots = slots
        self.args = (code,)


def parse_amount(text: str) -> Decimal:
    """An amount as bankers type it (`1.5亿`, `3,000万`, `¥1,234.56元`); BadValue when unreadable."""
    return read_amount(text)


def parse_text(f: Any, text: str, tz: ZoneInfo | None = None) -> Any:
    """One typed value from one piece of posted text (None when empty), read by the one value model
    (dsl/values); BadValue when unreadable."""
    try:
        return value_reader(f, source="form", tz=tz)(text)
    except ArithmeticError:        # an amount beyond what dsl/values' reader holds ("1e30"): refused, never a traceback
        raise BadValue("number", text) from None


def _upload(f: FieldSpec, name: str, sub: Submitted, limits: FileLimits) -> Any:
    got = sub.get(name)
    if isinstance(got, UploadedFile) and got.filename:
        ext = "." + got.filename.rsplit(".", 1)[-1].lower() if "." in got.filename else ""
        if ext not in limits.extensions:
            raise BadInput("file_type", limit=" ".join(limits.extensions))
        if len(got.data) > limits.max_bytes:
            raise BadInput("file_size", limit=file_size(limits.max_bytes))
        return got
    if _true(sub.get(name + ".__remove") or ""):
        return None
    current = sub.get(name + ".__current")
    return current if isinstance(current, str) and current else None


def parse_field(f: FieldSpec, name: str, sub: Submitted, tz: ZoneInfo, limits: FileLimits) -> Any:
    t = f.type
    if t == "bool":
        return any(_true(v) for v in sub.getlist(name))
    if t == "multi_enum":
        chosen = [v for v in sub.getlist(name) if isinstance(v, str) and v.strip()]
        return Choices(f.field.values).read_many(chosen) or None
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
            if isinstance(v, str) and v.strip() and not (col.type == "bool" and not _true(v)):
                return False
    return True


def parse_rows(table: FieldSpec, sub: Submitted, lang: str, tz: ZoneInfo, limits: FileLimits,
               problems: list[FieldError]) -> list[dict]:
    """The sub-table's rows in order; blank rows and rows marked for removal are left out."""
    rows: list[dict] = []
    for i in sub.row_indexes(table.name):
        prefix = f"{table.name}.{i}"
        if _true(sub.get(prefix + "._delete") or "") or row_is_blank(table, prefix, sub):
            continue
        row: dict[str, Any] = {}
        pos = len(rows)
        for col in table.columns:
            if not col.editable:
                continue
            try:
                row[col.name] = parse_field(col, f"{prefix}.{col.name}", sub, tz, limits)
            except (BadValue, BadInput) as exc:
                row[col.name] = None
                problems.append(FieldError((table.name, pos, col.name), exc.render(lang), exc.code))
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
        except (BadValue, BadInput) as exc:
            values[f.name] = None
            problems.append(FieldError((f.name,), exc.render(lang), exc.code))
    return values, problems
