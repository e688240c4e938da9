"""The report of a refused import: every problem of every row, by line and by the column header as
the person wrote it, in their language (zh or en, words from dsl/messages.yaml).

The records service collects the problems (runtime/records/validation.py, writes.py) with a
field path and a stable code; this module turns each into words for a person who is looking at
a spreadsheet — the cell as they typed it, what is expected, and the allowed labels of an enum.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from dsl.diagnostics import closest
from dsl.errors import LANGS, BanyanError, words
from runtime.records.errors import InvalidRecord, RecordError
from runtime.records.validation import Problem

FORMATS = ("csv", "xlsx")


class UnreadableFile(RecordError):
    """A file that is not a table Banyan can read (its words name the way out)."""
    status, code = 422, "unreadable_file"

    def __init__(self, key: str, **params: Any):
        BanyanError.__init__(self, key=key, params=params)
        self.problems = [Problem(("file",), self.message, "format", key, dict(params))]


def file_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UnreadableFile("records.file_type", suffix=suffix)
    return suffix


@dataclass(frozen=True)
class RowNote:
    """A problem the importer itself found in a row (words key suffix and parameters)."""
    kind: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class ReportLine:
    line: int | None            # the line in the file (1: the header); None for the whole file
    column: str                 # the header as written ("" for the whole row)
    message: str
    code: str

    def to_dict(self) -> dict:
        return {"row": self.line, "column": self.column, "message": self.message, "type": self.code}


class _Names:
    """Field labels joined, in whichever language the words are rendered (a Problem parameter)."""

    def __init__(self, fields: list[Any]):
        self.fields = fields

    def text(self, lang: str) -> str:
        return _join([_text(f.label, lang, f.name) for f in self.fields], lang)


def header_problem(index: int | None, header: str, kind: str, **params: Any) -> Problem:
    """A problem of the header row: path ("header", column number), the words `records.column_*`."""
    path: tuple = ("header",) if index is None else ("header", index + 1)
    column = header.strip()
    if kind == "unknown":
        entity = params.pop("entity")
        options = [o for f in entity.fields for o in (f.name, f.label.zh, f.label.en) if o]
        near = closest(column, options)
        key, params = ("records.column_unknown_hint", {"suggestion": near}) if near is not None else \
            ("records.column_unknown", {})
    elif kind == "missing":
        key, params = "records.columns_missing", {"fields": _Names(params["fields"])}
    else:
        key = f"records.column_{kind}"
    # an unknown column has the code the records service gives an unknown field (the words name the column)
    code = "unknown_field" if kind == "unknown" else kind
    problem = Problem(path, "", code, key, {"column": column, **params} if kind != "missing" else params)
    object.__setattr__(problem, "message", problem.text("en"))
    return problem


def _text(label: Any, lang: str, fallback: str = "") -> str:
    return (label.text(lang) if label else "") or fallback


def _join(items: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


# the problems the records service words only in English, by code
_BY_CODE = {"unique": "records.cell_unique", "reference": "records.cell_reference", "scope": "records.cell_scope"}


class Words:
    """Problem → words for one entity in one language (the problem's own catalogue words when it
    has them — dsl/field_rules.py, dsl/values —, else by its code, with the cell as written)."""

    def __init__(self, entity: Any, lang: str, cells: Mapping[tuple[int, str], str] | None = None,
                 entities: Mapping[str, Any] | None = None):
        self.entity, self.lang, self.cells, self.entities = entity, lang, cells or {}, entities or {}
        self.fields = {f.name: f for f in entity.fields}

    def label(self, name: str) -> str:
        f = self.fields.get(name)
        return _text(f.label, self.lang, name) if f is not None else name

    def cell(self, line: int | None, p: Problem, notes: Mapping[int, RowNote]) -> str:
        lang = self.lang
        if p.code == "format" and line is not None and line in notes:
            note = notes[line]
            return words(f"records.row_{note.kind}", lang, **note.params)
        name = p.path[1] if len(p.path) > 1 and isinstance(p.path[1], str) else None
        f = self.fields.get(name) if name else None
        if getattr(p, "key", None) or getattr(p, "words", None):
            return p.text(lang)
        key = _BY_CODE.get(p.code)
        if f is not None and key is not None:
            value = self.cells.get((line, f.name), "") if line is not None else ""
            target = self.entities.get(f.ref or "")
            return words(key, lang, value=value, target=_text(target.meta.label, lang, f.ref or "") if target
                         else f.ref or "")
        return p.message if lang == "en" else words("records.cell_other", lang, detail=p.message)


class ImportRefused(InvalidRecord):
    """Nothing was imported: the header does not fit, or rows have problems (all of them here).
    `report(lang)` lists them as (line, column as written, message); the API's `detail` adds
    `row` and `column` to each problem."""

    def __init__(self, message: str, problems: list[Problem], *, key: str, params: Mapping[str, Any],
                 report: Mapping[str, list[ReportLine]]):
        super().__init__(message, problems)
        self.key, self.params = key, dict(params)
        self._report = dict(report)
        self._entity: Any = None

    def render(self, lang: str = "en") -> str:
        if self._entity is not None:             # the entity by its label in the reader's language
            return words(self.message_key, lang, **{**self.params, "entity": _text(self._entity.meta.label, lang,
                                                                                    self._entity.name)})
        return super().render(lang)

    def report(self, lang: str = "en") -> list[ReportLine]:
        return self._report.get(lang) or self._report["en"]

    def detail(self, lang: str = "en") -> list[dict]:
        return [{"loc": list(p.path), "msg": r.message, "type": p.code, "row": r.line, "column": r.column}
                for p, r in zip(self.problems, self.report(lang))]

    @classmethod
    def of_header(cls, entity: Any, problems: list[Problem]) -> "ImportRefused":
        report = {lang: [ReportLine(1, str(p.params.get("column", "")), p.text(lang), p.code) for p in problems]
                  for lang in LANGS}
        message = f"the header does not fit {entity.name}: " + "; ".join(r.message for r in report["en"])
        out = cls(message, problems, key="records.import_header", params={"entity": entity.name}, report=report)
        out._entity = entity
        return out

    @classmethod
    def of_rows(cls, entities: Mapping[str, Any], name: str, exc: InvalidRecord, columns: list[Any], rows: int,
                notes: Mapping[int, RowNote], cells: Mapping[tuple[int, str], str]) -> "ImportRefused":
        headers = {c.field.name: c.header for c in columns if c.field is not None}
        problems = list(exc.problems)
        report: dict[str, list[ReportLine]] = {}
        for lang in LANGS:
            w = Words(entities[name], lang, cells, entities)
            lines = []
            for p in problems:
                line = p.path[0] if p.path and isinstance(p.path[0], int) else None
                field = p.path[1] if len(p.path) > 1 and isinstance(p.path[1], str) else None
                column = headers.get(field, w.label(field)) if field else ""
                lines.append(ReportLine(line, column, w.cell(line, p, notes), p.code))
            report[lang] = lines
        bad = len({r.line for r in report["en"]})
        return cls(exc.message, problems, key="records.import_refused",
                   params={"bad": bad, "rows": rows}, report=report)
