"""CSV and XLSX out, in two shapes.

For people (`lang` "zh" or "en"): the list the person is looking at (its search, filters and
order — runtime/records/listing.py), one column per field headed by its label, an enum's label, a
reference's display name (a record's display field, an org unit's name, a person's name), yes/no
as 是/否; in XLSX real numbers and dates with Excel number formats (money `#,##0.00`, percent
`0.00%`, dates `yyyy-mm-dd`), a bold frozen header and column widths that fit; CSV as UTF-8 with a
BOM so Excel on Chinese Windows opens it right.

For machines (`lang=None`): field names, codes, keys, ISO dates and plain decimals — what another
system (or `banyan import`) reads back exactly.

A text cell a spreadsheet would run as a formula is written as text (OWASP's advice).
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping
from zoneinfo import ZoneInfo

from dsl.bank_time import moment_text
from dsl.errors import words
from dsl.values import percent_fields, write_record, write_value
from runtime.auth.org import OrgTree
from runtime.auth.people import PeopleDirectory
from runtime.auth.scope import Scope
from runtime.records import personal as personal_data
from runtime.records.listing import iter_listed, record_labels
from runtime.records.service import Records
from runtime.records.tabular_report import file_format

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # what a spreadsheet reads as a formula
BANK_TZ = ZoneInfo("Asia/Shanghai")
SAMPLE = 200                                       # rows looked at to size the columns
YES_NO = {"zh": ("是", "否"), "en": ("Yes", "No")}


def _cell(v: Any, xlsx: bool) -> Any:
    if v is None:
        return None if xlsx else ""
    if isinstance(v, bool):
        return v if xlsx else ("true" if v else "false")
    if isinstance(v, datetime):
        v = v.astimezone(timezone.utc).replace(tzinfo=None) if v.tzinfo else v
        return v if xlsx else v.isoformat()
    if isinstance(v, date):
        return v if xlsx else v.isoformat()
    if isinstance(v, Decimal):
        return v if xlsx else format(v, "f")
    if isinstance(v, timedelta):
        return v.total_seconds()
    if isinstance(v, list):
        v = ";".join(map(str, v))
    if not xlsx and isinstance(v, str) and v.startswith(FORMULA_START):
        return "'" + v              # text, not a formula, when a spreadsheet opens the file
    return v


def csv_chunks(names: list[str], rows: Iterable[Mapping[str, Any]], *, bom: bool = False,
               header: list[str] | None = None) -> Iterator[str]:
    """CSV text in chunks of about 64 KB: the header (`header`, else the names), then one line per
    record. A text cell that a spreadsheet would run as a formula is written with a leading `'`."""
    out = io.StringIO()
    w = csv.writer(out)
    if bom:
        out.write("\ufeff")                 # Excel reads UTF-8 with a BOM
    w.writerow(header or names)
    for rec in rows:
        w.writerow([_cell(rec[n], False) for n in names])
        if out.tell() > 64 * 1024:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def write_xlsx(target: Any, sheet: str, names: list[str], rows: Iterable[Mapping[str, Any]], *,
               header: list[str] | None = None, formats: Mapping[str, str] | None = None,
               widths: Mapping[str, float] | None = None, note: "ExportNote | None" = None) -> None:
    """An XLSX workbook (to a path or a binary file) with one sheet: the header, one row per record;
    `formats` gives a column's Excel number format, `widths` its width. Every text cell is stored
    as text, so `=HYPERLINK(…)` is never a live formula. With `note`, the workbook says who
    exported it when: its document properties, and a second sheet (导出说明) after the data, so
    an import — which reads the first sheet — reads the data alone."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title(sheet))
    formats = formats or {}
    for i, n in enumerate(names, start=1):
        if widths and n in widths:
            ws.column_dimensions[get_column_letter(i)].width = widths[n]
    ws.freeze_panes = "A2"
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    head = []
    for text in header or names:
        c = WriteOnlyCell(ws, value=text)
        c.font, c.fill, c.alignment = bold, fill, Alignment(vertical="center")
        head.append(c)
    ws.append(head)

    def cell(name: str, v: Any) -> Any:
        v = _cell(v, True)
        fmt = formats.get(name)
        if isinstance(v, str) and v.startswith(FORMULA_START):
            c = WriteOnlyCell(ws, value=v)
            c.data_type = "s"
            return c
        if fmt and v is not None and not isinstance(v, str):
            c = WriteOnlyCell(ws, value=v)
            c.number_format = fmt
            return c
        return v
    for rec in rows:
        ws.append([cell(n, rec[n]) for n in names])
    if note is not None:
        wb.properties.creator = wb.properties.lastModifiedBy = note.by
        wb.properties.created = wb.properties.modified = note.at.astimezone(timezone.utc).replace(tzinfo=None)
        wb.properties.title, wb.properties.description = note.title, note.warning
        about = wb.create_sheet(sheet_title(note.sheet))
        about.column_dimensions["A"].width, about.column_dimensions["B"].width = 24, 80
        for label, value in note.lines():
            shown = WriteOnlyCell(about, value=value)
            if isinstance(value, str):
                shown.data_type = "s"            # text, never a formula
            about.append([label, shown])
    wb.save(target)


class ExportNote:
    """Who exported what when (个人信息保护法: an export of personal data is marked and audited), in
    `lang`: the XLSX's document properties and its sheet 导出说明 (runtime/records/personal.py)."""

    def __init__(self, by: str, at: datetime, title: str, count: Callable[[], int], personal: list[str], lang: str):
        self.by, self.at, self.title, self.count, self.personal, self.lang = by, at, title, count, personal, lang
        self.sheet = words("records.export_note.sheet", lang)
        self.warning = words("records.export_note.warning", lang)

    def lines(self) -> list[tuple[str, Any]]:
        def w(key: str) -> str:
            return words(f"records.export_note.{key}", self.lang)
        return [(w("by"), self.by), (w("at"), moment_text(self.at, seconds=True, zone=True)),
                (w("what"), self.title), (w("count"), self.count()),
                (w("personal"), "、".join(self.personal)), ("", self.warning)]


def sheet_title(text: str) -> str:
    for ch in "[]:*?/\\":
        text = text.replace(ch, " ")
    return text.strip()[:31] or "Sheet1"


# -- for people ------------------------------------------------------------------------------------

def number_format(f: Any) -> str | None:
    """The Excel number format of a field's column."""
    t = f.type_name
    if t == "money":
        scale = 2 if f.scale is None else f.scale
        return "#,##0" + ("." + "0" * scale if scale else "")
    if t == "number":
        return "#,##0.########" if f.scale is None else "#,##0" + ("." + "0" * f.scale if f.scale else "")
    if t == "integer":
        return "#,##0"
    if t == "percent":
        return "0.00%"
    if t == "date":
        return "yyyy-mm-dd"
    if t == "datetime":
        return "yyyy-mm-dd hh:mm"
    return None


def display_width(text: str) -> float:
    """How wide text reads in Excel's units (a CJK character counts twice)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


class PeopleView:
    """Records → the values a person reads, a chunk at a time (references looked up per chunk)."""

    def __init__(self, records: Records, entity: str, lang: str, xlsx: bool):
        self.records, self.lang, self.xlsx = records, lang, xlsx
        self.entity = records.live.entity(entity)
        self.fields = list(self.entity.fields)
        self.tree = OrgTree(records.live.bundle)
        self.people = PeopleDirectory(records.engine)

    def header(self) -> list[str]:
        return [f.label.text(self.lang) or f.name for f in self.fields]

    def rows(self, records: Iterable[dict], chunk: int = 500) -> Iterator[dict]:
        batch: list[dict] = []
        for rec in records:
            batch.append(rec)
            if len(batch) >= chunk:
                yield from self._chunk(batch)
                batch = []
        yield from self._chunk(batch)

    def _chunk(self, batch: list[dict]) -> list[dict]:
        if not batch:
            return []
        names: dict[str, dict[Any, str]] = {}
        for f in self.fields:
            if f.type_name != "ref":
                continue
            keys = {r[f.name] for r in batch if r.get(f.name) is not None}
            if f.ref == "org_unit":
                names[f.name] = {k: self.tree.label(k, self.lang) for k in keys}
            elif f.ref == "user":
                names[f.name] = self.people.display_names(keys)
            else:
                labels = record_labels(self.records, f.ref, keys)
                names[f.name] = {k: labels.get(str(k), str(k)) for k in keys}
        return [{f.name: self._value(f, r.get(f.name), names.get(f.name)) for f in self.fields} for r in batch]

    def _value(self, f: Any, v: Any, names: Mapping[Any, str] | None) -> Any:
        if v is None or v == []:
            return None
        t = f.type_name
        if t == "ref":
            return (names or {}).get(v, str(v))
        if t in ("enum", "multi_enum"):
            labels = {e.value: e.label.text(self.lang) or e.value for e in f.values}
            items = v if isinstance(v, list) else [v]
            return ("、" if self.lang == "zh" else ", ").join(labels.get(i, str(i)) for i in items)
        if t == "bool":
            return YES_NO[self.lang][0 if v else 1]
        if t == "datetime" and isinstance(v, datetime):
            moment = (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).astimezone(BANK_TZ).replace(tzinfo=None)
            return moment if self.xlsx else moment.strftime("%Y-%m-%d %H:%M")
        if t == "duration" and isinstance(v, timedelta):
            return str(v)
        if isinstance(v, Decimal):
            if not self.xlsx:
                if t == "percent":      # every digit kept: 12.345% reads back as 12.345%
                    return write_value(f, v, target="text")
                if t == "money":
                    return f"{v.quantize(Decimal(1).scaleb(-(2 if f.scale is None else f.scale))):f}"
                return f"{v:f}"
            return float(v) if abs(v) < Decimal(10) ** 15 else v
        return v

    def widths(self, sample: list[Mapping[str, Any]]) -> dict[str, float]:
        out = {}
        for f, head in zip(self.fields, self.header()):
            longest = display_width(head) + 2
            for r in sample:
                v = r.get(f.name)
                if v is None:
                    continue
                if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool):
                    text = f"{v:,.2f}" if f.type_name != "percent" else "100.00%"
                elif isinstance(v, datetime):
                    text = "2000-01-01 00:00"
                elif isinstance(v, date):
                    text = "2000-01-01"
                else:
                    text = str(v)
                longest = max(longest, display_width(text) + 2)
            out[f.name] = float(min(max(longest, 8), 60))
        return out


def _prepared(records: Records, entity: str, xlsx: bool, lang: str | None, source: Iterable[dict]
              ) -> tuple[list[str], list[str] | None, Iterable[Mapping[str, Any]], dict | None, dict | None]:
    """(names, header, rows, number formats, widths) of an export."""
    ent = records.live.entity(entity)
    if lang is None:            # for machines: a percent as "70%", which every import reads back as 70%
        percents = percent_fields(ent.fields)
        rows_out = source if not percents else (write_record(percents, r, target="text") for r in source)
        return ["id"] + [f.name for f in ent.fields], None, rows_out, None, None
    view = PeopleView(records, entity, lang, xlsx)
    rows: Iterable[Mapping[str, Any]] = view.rows(source)
    formats = {f.name: fmt_ for f in view.fields if (fmt_ := number_format(f))}
    widths = None
    if xlsx:
        it = iter(rows)
        sample = [r for _, r in zip(range(SAMPLE), it)]
        widths = view.widths(sample)
        rows = _chain(sample, it)
    return [f.name for f in view.fields], view.header(), rows, formats, widths


def _personal_export(records: Records, entity: str, scope: Scope | None) -> list[str]:
    """The names of `entity`'s personal fields that this export holds unmasked: a person with
    `personal.export` (runtime/records/personal.py); none when they are masked, or for the operator."""
    kinds = records.personal(entity)
    if not kinds or scope is None:
        return []
    with records.engine.connect() as conn:
        return sorted(kinds) if records.sees_personal(conn, scope, personal_data.EXPORT) else []


def _audit_export(records: Records, entity: str, scope: Scope | None, fields: list[str], count: int, fmt: str,
                  search: str, filters: Mapping[str, str] | None) -> None:
    if fields:
        personal_data.audit_read(records.engine, scope, entity, [], records.live.version,
                                 action=personal_data.EXPORT_ACTION,
                                 details={"count": count, "format": fmt, "fields": fields, "search": search,
                                          "filters": {k: v for k, v in (filters or {}).items() if v}})


def _note(records: Records, entity: str, scope: Scope, fields: list[str], lang: str | None,
          count: Callable[[], int]) -> ExportNote:
    lang = lang or "zh"
    ent = records.live.entity(entity)
    name = PeopleDirectory(records.engine).display_names([scope.who]).get(scope.who, scope.who)
    labels = [(ent.field(f).label.text(lang) or f) if ent.field(f) is not None else f for f in fields]
    return ExportNote(f"{name} ({scope.who})" if name != scope.who else scope.who, datetime.now(timezone.utc),
                      ent.meta.label.text(lang) or entity, count, labels, lang)


def export_chunks(records: Records, entity: str, *, lang: str | None = "zh", scope: Scope | None = None,
                  search: str = "", filters: Mapping[str, str] | None = None, order: str | None = None
                  ) -> Iterator[str]:
    """The CSV text of an export (see `export_records`), in chunks to stream: UTF-8 with a BOM
    for people, plain for machines. Personal fields are unmasked only for `personal.export`, and
    such an export is audited when the last chunk has been made (CSV has no place for a mark that
    every reader skips: see runtime/records/README.md)."""
    fields = _personal_export(records, entity, scope)
    count = 0

    def counted(items: Iterable[dict]) -> Iterator[dict]:
        nonlocal count
        for item in items:
            count += 1
            yield item
    source = counted(iter_listed(records, entity, scope, search=search, filters=filters, order=order))
    names, header, rows, _, _ = _prepared(records, entity, False, lang, source)

    def chunks() -> Iterator[str]:
        yield from csv_chunks(names, rows, bom=lang is not None, header=header)
        _audit_export(records, entity, scope, fields, count, "csv", search, filters)
    return chunks()


def export_records(records: Records, entity: str, target: Any, fmt: str, *, lang: str | None = "zh",
                   scope: Scope | None = None, search: str = "", filters: Mapping[str, str] | None = None,
                   order: str | None = None, on_progress: Callable[[int], None] | None = None) -> int:
    """The list (search, filters, order) that `scope` reads, to `target` (a path or a binary file)
    as `fmt` ("csv" or "xlsx"), for people in `lang`, or for machines with `lang=None`; how many."""
    count = 0

    def counted(items: Iterable[dict]) -> Iterator[dict]:
        nonlocal count
        for item in items:
            yield item
            count += 1
            if on_progress and count % 1000 == 0:
                on_progress(count)
    fields = _personal_export(records, entity, scope)
    source = counted(iter_listed(records, entity, scope, search=search, filters=filters, order=order))
    names, header, rows, formats, widths = _prepared(records, entity, fmt == "xlsx", lang, source)
    if fmt == "csv":
        chunks = csv_chunks(names, rows, bom=lang is not None, header=header)
        if isinstance(target, (str, Path)):
            with Path(target).open("w", newline="", encoding="utf-8") as handle:
                for chunk in chunks:
                    handle.write(chunk)
        else:
            for chunk in chunks:
                target.write(chunk.encode("utf-8"))
    else:
        label = records.live.entity(entity).meta.label.text(lang or "en")
        note = _note(records, entity, scope, fields, lang, lambda: count) if fields and scope is not None else None
        write_xlsx(target, label or entity, names, rows, header=header, formats=formats, widths=widths, note=note)
    _audit_export(records, entity, scope, fields, count, fmt, search, filters)
    return count


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


def export_file(records: Records, entity: str, path: str | Path, on_progress: Callable[[int], None] | None = None,
                scope: Scope | None = None, *, lang: str | None = None, search: str = "",
                filters: Mapping[str, str] | None = None, order: str | None = None) -> int:
    """The records of `entity` that `scope` may read (all for the operator) to a .csv or .xlsx
    file — for machines unless `lang` is given (see the module's docstring)."""
    return export_records(records, entity, path, file_format(path), lang=lang, scope=scope, search=search,
                          filters=filters, order=order, on_progress=on_progress)
