"""CSV and XLSX in, as banks move lists of companies.

Reading: a CSV is UTF-8 (with or without a BOM), else GB18030 — the superset of the GBK that
Excel on Chinese Windows saves — else UTF-16 ("Unicode text", tab-separated); the choice is made
by decoding the whole file strictly, never by guessing from a sample. An XLSX is read cell by
cell with its number format, so a percent-formatted cell (35% stored as 0.35) and a date typed
as a number (an Excel serial such as 43221) mean what the person saw.

The header names fields by name, by their Chinese or English label (case, spaces, full-width
brackets and a trailing `*` do not matter), optionally with a unit: `注册资本（万元）` fills
`registered_capital` with every bare number × 10 000, `比例(%)` reads 35 as 35%. An unknown
column, a repeated field or a missing required column (one without a default) is reported
before any row is read. Then every row goes through the records service in one transaction:
every problem of every row is collected and nothing is written unless there is none
(`ImportRefused`: each problem by line and by the column header as written, in zh or en —
runtime/records/tabular_report.py). A write refused because an amount's currency has no exchange
rate (found above the rows, when their totals are converted) is reported on each row in that
currency (`Currencies`). Exports and templates: tabular_export.py, tabular_template.py.
"""
from __future__ import annotations

import codecs
import csv
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from dsl.values import UNITS as VALUE_UNITS
from dsl.values import BadValue, value_reader
from runtime.auth.scope import Scope
from runtime.jobs.changes import source
from runtime.records.errors import InvalidRecord
from runtime.records.service import Records
from runtime.records.tabular_export import FORMULA_START, csv_chunks, export_file, write_xlsx
from runtime.records.tabular_report import FORMATS, ImportRefused, RowNote, UnreadableFile, file_format, header_problem
from runtime.records.validation import Problem
from runtime.records.writes import Row, RowError

# units a header may carry after its label (`注册资本（万元）`): dsl/values' table, and `%` on a percent
# column (which changes nothing: 70 is 70% in a percent field, a percent-formatted cell its fraction)
UNITS = {unit: Decimal(10) ** power for unit, power in VALUE_UNITS.items()}
_UNIT = re.compile(r"^(?P<label>.*?)\s*\(\s*(?P<unit>[^()]+?)\s*\)$")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
CHUNK = 1 << 20
SYSTEM_COLUMNS = frozenset({"id", "version", "created_at", "updated_at"})
UNREADABLE_SHEET = (OSError, KeyError, ValueError, TypeError, AttributeError, IndexError, zipfile.BadZipFile)


# -- reading the bytes ----------------------------------------------------------------------------

def text_encoding(path: Path) -> str:
    """The encoding the whole file decodes in, strictly: utf-8-sig, utf-16 (with its BOM), gb18030."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    else:
        candidates = ["utf-8-sig", "gb18030"]
    line = 1
    for enc in candidates:
        decoder = codecs.getincrementaldecoder(enc)("strict")
        line = 1
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    line += decoder.decode(chunk).count("\n")
                decoder.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("records.bad_text", line=line)


@dataclass(frozen=True)
class SheetCell:
    """An XLSX cell as Excel shows it: its value, its number format, whether Excel took it for a date."""
    value: Any
    number_format: str = "General"
    is_date: bool = False
    mac_dates: bool = False          # its workbook counts date serials from 1904


def _csv_rows(path: Path) -> tuple[list[str], Iterator[list[Any]]]:
    enc = text_encoding(path)
    handle = path.open(newline="", encoding=enc)
    first = handle.readline()
    handle.seek(0)
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        header = next(reader, [])
    except csv.Error:
        handle.close()
        raise UnreadableFile("records.bad_csv", line=1) from None

    def rows() -> Iterator[list[Any]]:
        with handle:
            try:
                yield from reader
            except csv.Error:                      # a NUL byte, a field larger than csv allows …
                raise UnreadableFile("records.bad_csv", line=reader.line_num) from None
    return header, rows()


def _xlsx_rows(path: Path) -> tuple[list[str], Iterator[list[Any]]]:
    from openpyxl import load_workbook
    from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900
    from openpyxl.utils.exceptions import InvalidFileException
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, *UNREADABLE_SHEET):
        raise UnreadableFile("records.bad_workbook") from None
    mac = wb.epoch != CALENDAR_WINDOWS_1900          # a workbook counting days from 1904 (old Mac Excel)
    it = wb.worksheets[0].iter_rows()
    try:
        header = [("" if c.value is None else str(c.value)) for c in next(it, ())]
    except UNREADABLE_SHEET:
        wb.close()
        raise UnreadableFile("records.bad_workbook") from None

    def xrows() -> Iterator[list[Any]]:
        try:
            for r in it:
                yield [SheetCell(c.value, getattr(c, "number_format", None) or "General",
                                 bool(getattr(c, "is_date", False)), mac) if c.value is not None else None for c in r]
        except UNREADABLE_SHEET:                   # a damaged sheet inside a readable package
            raise UnreadableFile("records.bad_workbook") from None
        finally:
            wb.close()
    return header, xrows()


def read_table(path: str | Path) -> tuple[list[str], Iterator[list[Any]]]:
    """(header texts, rows of cells): CSV cells are text, XLSX cells `SheetCell`s (None: empty)."""
    path = Path(path)
    fmt = file_format(path)
    if not path.is_file():
        raise UnreadableFile("records.no_file", name=str(path))
    return _csv_rows(path) if fmt == "csv" else _xlsx_rows(path)


# -- the header -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    index: int
    header: str                       # as written in the file
    field: Any                        # the EntityField it fills; None: skipped (computed or blank)
    factor: Decimal | None = None     # the unit its header gives (万元 → 10000, % → 0.01)


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).replace("\u3000", " ")
    return re.sub(r"\s+", " ", text).strip().rstrip("*").strip().casefold()


def header_columns(records: Records, entity: str, header: list[str]) -> list[Column]:
    """The column each header cell names; raises ImportRefused for a header that does not fit."""
    ent = records.live.entity(entity)
    by_text: dict[str, Any] = {}
    for each in ent.fields:
        by_text.setdefault(_norm(each.name), each)
    for each in ent.fields:
        for text in (each.label.zh, each.label.en):
            if text:
                by_text.setdefault(_norm(text), each)
    problems: list[Problem] = []
    out: list[Column] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(header):
        col = _norm(raw)
        f: Any = by_text.get(col)
        factor: Decimal | None = None
        m = _UNIT.match(col) if f is None else None
        if m is not None and by_text.get(m.group("label")) is not None:
            f = by_text[m.group("label")]
            unit = m.group("unit").replace(" ", "")
            factor = UNITS.get(unit)
            if unit == "%" and f.type_name == "percent":
                factor = None
            elif factor is None or f.type_name not in ("money", "number", "integer"):
                problems.append(header_problem(i, raw, "unit", unit=unit))
                out.append(Column(i, raw, None))
                continue
        if f is None:
            if col and col not in SYSTEM_COLUMNS:      # a machine export's own columns are skipped
                problems.append(header_problem(i, raw, "unknown", entity=ent))
            out.append(Column(i, raw, None))
            continue
        if f.name in seen:
            problems.append(header_problem(i, raw, "repeated", first=seen[f.name]))
        seen.setdefault(f.name, raw.strip())
        out.append(Column(i, raw.strip(), None if f.computed else f, factor))
    missing = [f.name for f in ent.fields
               if f.required and not f.computed and f.default is None and f.name not in seen]
    if missing:
        problems.append(header_problem(None, "", "missing", fields=[ent.field(n) for n in missing]))
    if problems:
        raise ImportRefused.of_header(ent, problems)
    return out


# kept for callers of the earlier name
def header_fields(records: Records, entity: str, header: list[str]) -> list[str | None]:
    return [c.field.name if c.field is not None else None for c in header_columns(records, entity, header)]


# -- cells → the values the records service converts --------------------------------------------

def _scaled(value: Any, factor: Decimal) -> Any:
    """A bare number × the header's unit; text with its own unit (`3000万`) is left to the converter."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return Decimal(repr(value) if isinstance(value, float) else value) * factor
    if isinstance(value, str) and _PLAIN_NUMBER.match(value.strip()):
        try:
            return Decimal(value.strip().replace(",", "")) * factor
        except InvalidOperation:
            return value
    return value


class Readers:
    """The value readers of the fields of a sheet's columns, for XLSX cells (dsl/values' "excel"
    source: a number in a date field is an Excel serial, a percent cell holds the fraction)."""

    def __init__(self, columns: list[Column]):
        self._excel = {c.field.name: value_reader(c.field, source="excel") for c in columns if c.field is not None}

    def excel(self, field: Any, cell: SheetCell) -> Any:
        value = cell.value
        if cell.mac_dates and field.type_name in ("date", "datetime") and isinstance(value, (int, float)) \
                and not isinstance(value, bool):
            from openpyxl.utils.datetime import CALENDAR_MAC_1904, from_excel
            try:
                value = from_excel(value, CALENDAR_MAC_1904)
            except (OverflowError, ValueError):
                return value
        try:
            return self._excel[field.name](value, "%" in cell.number_format)
        except BadValue:
            return cell.value           # the records service reports it, beside the row's other problems


def cell_value(column: Column, cell: Any, readers: Readers) -> Any:
    """What the person meant by one cell of `column` (a CSV string, or an XLSX `SheetCell`)."""
    f = column.field
    if column.factor is not None:                        # a bare number in a `（万元）` column
        cell = _scaled(cell.value if isinstance(cell, SheetCell) else cell, column.factor)
    if isinstance(cell, SheetCell):
        if isinstance(cell.value, str):
            return cell.value                               # text reads alike in every source
        return readers.excel(f, cell)
    return cell


def _blank(cell: Any) -> bool:
    if isinstance(cell, SheetCell):
        cell = cell.value
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _rows(columns: list[Column], rows: Iterable[list[Any]], notes: dict[int, RowNote]) -> Iterator[Row | RowError]:
    width, readers = len(columns), Readers(columns)
    for line, cells in enumerate(rows, start=2):
        if all(_blank(c) for c in cells):
            continue                                   # blank lines are skipped
        extra = [i for i in range(width, len(cells)) if not _blank(cells[i])]
        if extra:
            notes[line] = RowNote("cells", {"cells": extra[-1] + 1, "columns": width})
            yield RowError(f"the row has {extra[-1] + 1} cells but the header has {width}", line)
            continue
        # a blank cell is a value not given: the field's default applies, as in a form
        yield Row({c.field.name: cell_value(c, cells[c.index], readers)
                   for c in columns if c.field is not None and c.index < len(cells) and not _blank(cells[c.index])},
                  line)


def read_rows(records: Records, entity: str, path: str | Path) -> Iterator[Row | RowError]:
    """The rows of a CSV/XLSX file as field values, each knowing its line (nothing written): the
    same header matching and cell reading as `import_file`, for a door that takes rows one by one
    (runtime/events)."""
    header, rows = read_table(Path(path))
    columns = header_columns(records, entity, header)
    return _rows(columns, rows, {})


def import_file(records: Records, entity: str, path: str | Path, *, actor: str,
                on_progress: Callable[[int], None] | None = None, scope: Scope | None = None) -> int:
    """Every row of the file or none (ImportRefused: each problem by line and column); the rows
    are checked against `scope` like any write (runtime/auth/scope.py), after their cells are
    normalised."""
    path = Path(path)
    header, rows = read_table(path)
    columns = header_columns(records, entity, header)
    notes: dict[int, RowNote] = {}
    currencies = Currencies(columns)
    counted = 0

    def counting() -> Iterator[Row | RowError]:
        nonlocal counted
        for row in _rows(columns, rows, notes):
            counted += 1
            currencies.note(row)
            yield row
    try:
        with source("import"):                          # the change feed tells an import from a form
            return records.bulk_create(entity, counting(), actor=actor, first_row=2, on_progress=on_progress,
                                       scope=scope)
    except InvalidRecord as exc:
        exc = currencies.placed(exc)
        raise ImportRefused.of_rows(records.live.bundle.entities, entity, exc, columns, counted, notes,
                                    _cells_at(path, columns, {p.path[0] for p in exc.problems
                                                              if p.path and isinstance(p.path[0], int)})) from None


class Currencies:
    """Which rows of a file hold amounts in which currency (the columns that give a money field its
    currency), so that a write refused for a missing exchange rate — found when the totals above
    the rows are recomputed, after every row was read (runtime/records/computed.py) — is reported
    on the rows in that currency, by line and currency column, like any other problem of a row."""

    RATE = "missing_rate"

    def __init__(self, columns: list[Column]):
        given = {c.field.name: c.field for c in columns if c.field is not None}
        names = {getattr(f, "currency_field", None) for f in given.values() if f.type_name == "money"}
        self._read = {n: value_reader(given[n]) for n in sorted(names - {None}) if n in given}
        self.lines: dict[str, list[int]] = {}          # currency code → lines in that currency, in order
        self.column: dict[tuple[int, str], str] = {}   # (line, currency) → the field that gives it

    def note(self, row: Row | RowError) -> None:
        if not self._read or not isinstance(row, Row):
            return
        for name, read in self._read.items():
            raw = row.get(name)
            try:
                code = read(raw.value if isinstance(raw, SheetCell) else raw)
            except BadValue:
                continue                                 # the row's own problem, reported by the service
            if code is not None and (row.line, str(code)) not in self.column:
                self.lines.setdefault(str(code), []).append(row.line)
                self.column[(row.line, str(code))] = name

    def placed(self, exc: InvalidRecord) -> InvalidRecord:
        """`exc` with each missing-rate problem of the whole write on the rows in its currency."""
        if not any(p.code == self.RATE and not _on_a_row(p) for p in exc.problems):
            return exc
        out: list[Problem] = []
        for p in exc.problems:
            currency = str((p.params or {}).get("currency"))
            lines = self.lines.get(currency, []) if p.code == self.RATE and not _on_a_row(p) else []
            if not lines:           # a rate no row of the file names (or any other problem): as it is
                out.append(p)
                continue
            out.extend(Problem((line, self.column[(line, currency)]), p.message, p.code, p.key, p.params)
                       for line in lines)
        out.sort(key=lambda p: p.path[0] if _on_a_row(p) else 0)
        return InvalidRecord(exc.message, out)


def _on_a_row(p: Problem) -> bool:
    return bool(p.path) and isinstance(p.path[0], int)


def _cells_at(path: Path, columns: list[Column], lines: set[int]) -> dict[tuple[int, str], str]:
    """{(line, field): the cell's text as written} for the lines with a problem (read again)."""
    if not lines:
        return {}
    out: dict[tuple[int, str], str] = {}
    _, rows = read_table(path)
    last = max(lines)
    for line, cells in enumerate(rows, start=2):
        if line in lines:
            for c in columns:
                if c.field is not None and c.index < len(cells) and not _blank(cells[c.index]):
                    v = cells[c.index]
                    v = v.value if isinstance(v, SheetCell) else v
                    out[(line, c.field.name)] = str(v)
        if line >= last:
            break
    close = getattr(rows, "close", None)
    if close is not None:
        close()
    return out



__all__ = ["FORMATS", "FORMULA_START", "Column", "ImportRefused", "SheetCell", "UnreadableFile", "cell_value",
           "csv_chunks", "export_file", "file_format", "header_columns", "header_fields", "import_file",
           "read_table", "text_encoding", "write_xlsx"]
