"""CSV and XLSX in and out, as banks move lists of companies.

Import: the header names fields (by name, or by their Chinese or English label); an unknown
column, a missing required column or a computed column is reported before any row is read;
then every row goes through the records service in one transaction, so a bad row means
nothing is imported and the report names each bad row by its line in the file.
Export: one column per field, keys for references, ISO dates, plain decimals.
"""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from dsl.diagnostics import did_you_mean
from runtime.auth.scope import Scope
from runtime.jobs.changes import source
from runtime.records.errors import InvalidRecord
from runtime.records.service import Records
from runtime.records.validation import Problem
from runtime.records.writes import Row, RowError

FORMATS = ("csv", "xlsx")


def file_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise InvalidRecord(f"{path}: unsupported file type `.{suffix}`; use .csv or .xlsx",
                            [Problem(("file",), "use .csv or .xlsx", "format")])
    return suffix


def _read(path: Path, fmt: str) -> tuple[list[str], Iterator[list[Any]]]:
    if fmt == "csv":
        handle = path.open(newline="", encoding="utf-8-sig")
        reader = csv.reader(handle)
        try:
            header = next(reader, [])
        except UnicodeDecodeError:
            handle.close()
            raise _not_utf8(path, 1) from None

        def rows() -> Iterator[list[Any]]:
            with handle:
                try:
                    yield from reader
                except UnicodeDecodeError:
                    raise _not_utf8(path, reader.line_num + 1) from None
        return header, rows()
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError, zipfile.BadZipFile):
        raise InvalidRecord(f"{path.name}: not a readable .xlsx workbook", [Problem(
            ("file",), "not a readable .xlsx workbook: save it from Excel as an Excel Workbook (.xlsx), "
                       "or as CSV UTF-8", "format")]) from None
    it = wb.worksheets[0].iter_rows(values_only=True)
    header = [("" if c is None else str(c)) for c in next(it, ())]

    def xrows() -> Iterator[list[Any]]:
        try:
            for r in it:
                yield list(r)
        finally:
            wb.close()
    return header, xrows()


def header_fields(records: Records, entity: str, header: list[str]) -> list[str | None]:
    """The field each column fills (None: a computed column, skipped); raises on a bad header."""
    ent = records.live.entity(entity)
    by_label: dict[str, str] = {}
    for f in ent.fields:
        by_label[f.name] = f.name
        for text in (f.label.zh, f.label.en):
            if text:
                by_label.setdefault(text, f.name)
    problems: list[Problem] = []
    out: list[str | None] = []
    for i, raw in enumerate(header):
        col = raw.strip()
        name = by_label.get(col)
        if name is None:
            if col:
                hint = did_you_mean(col, [f.name for f in ent.fields])
                problems.append(Problem(("header", i + 1), f"column `{col}` is not a field of {entity}"
                                        + (f" ({hint})" if hint else ""), "unknown_field"))
            out.append(None)
            continue
        if name in out:
            problems.append(Problem(("header", i + 1), f"column `{col}` repeats field `{name}`", "duplicate"))
        out.append(None if ent.field(name).computed else name)
    missing = [f.name for f in ent.fields if f.required and f.name not in out]
    if missing:
        problems.append(Problem(("header",), "required column(s) missing: " + ", ".join(missing), "required"))
    if problems:
        raise InvalidRecord(f"the header does not fit {entity}: " + "; ".join(p.message for p in problems), problems)
    return out


def import_file(records: Records, entity: str, path: str | Path, *, actor: str,
                on_progress: Callable[[int], None] | None = None, scope: Scope | None = None) -> int:
    """Every row of the file or none (each problem by line and field); the rows are checked
    against `scope` like any write (runtime/auth/scope.py), after their cells are normalised."""
    path = Path(path)
    fmt = file_format(path)
    if not path.exists():
        raise InvalidRecord(f"no such file: {path}", [Problem(("file",), "not found", "not_found")])
    header, rows = _read(path, fmt)
    fields = header_fields(records, entity, header)

    def dicts() -> Iterator[Row | RowError]:
        for line, cells in enumerate(rows, start=2):
            if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
                continue                                   # blank lines are skipped
            if any(c not in (None, "") for c in cells[len(fields):]):
                yield RowError(f"the row has {len(cells)} cells but the header has {len(fields)}", line)
                continue
            yield Row({f: c for f, c in zip(fields, cells) if f is not None}, line)

    with source("import"):                          # the change feed tells an import from a form
        return records.bulk_create(entity, dicts(), actor=actor, first_row=2, on_progress=on_progress, scope=scope)


def _not_utf8(path: Path, line: int) -> InvalidRecord:
    why = ("the file is not UTF-8 text (Excel saves CSV as GBK unless asked): "
           "save it as \"CSV UTF-8 (逗号分隔)\", or as an .xlsx workbook")
    return InvalidRecord(f"{path.name}: {why}", [Problem((line, "file"), why, "format")])


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # what a spreadsheet reads as a formula


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
        return "'" + v              # text, not a formula, when a spreadsheet opens the file (OWASP's advice)
    return v


def csv_chunks(names: list[str], rows: Iterable[Mapping[str, Any]], *, bom: bool = False) -> Iterator[str]:
    """CSV text in chunks of about 64 KB: the header, then one line per record. A text cell that a
    spreadsheet would run as a formula (`=HYPERLINK(…)`, `+`, `-`, `@`) is written with a leading `'`."""
    out = io.StringIO()
    w = csv.writer(out)
    if bom:
        out.write("\ufeff")                 # Excel reads UTF-8 with a BOM
    w.writerow(names)
    for rec in rows:
        w.writerow([_cell(rec[n], False) for n in names])
        if out.tell() > 64 * 1024:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def write_xlsx(target: Any, sheet: str, names: list[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """An XLSX workbook (to a path or a binary file) with one sheet: the header, one row per record.
    Every text cell is stored as text, so `=HYPERLINK(…)` is never a live formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    ws.append(names)

    def cell(v: Any) -> Any:
        v = _cell(v, True)
        if isinstance(v, str) and v.startswith(FORMULA_START):
            c = WriteOnlyCell(ws, value=v)
            c.data_type = "s"
            return c
        return v
    for rec in rows:
        ws.append([cell(rec[n]) for n in names])
    wb.save(target)


def export_file(records: Records, entity: str, path: str | Path,
                on_progress: Callable[[int], None] | None = None, scope: Scope | None = None) -> int:
    """Every record of `entity` that `scope` may read (all of them for the operator) to a file."""
    path = Path(path)
    fmt = file_format(path)
    ent = records.live.entity(entity)
    names = ["id"] + [f.name for f in ent.fields]
    count = 0

    def rows() -> Iterator[dict]:
        nonlocal count
        for rec in records.iter_all(entity, scope=scope):
            yield rec
            count += 1
            if on_progress and count % 1000 == 0:
                on_progress(count)
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as handle:
            for chunk in csv_chunks(names, rows()):
                handle.write(chunk)
    else:
        write_xlsx(path, entity, names, rows())
    return count
