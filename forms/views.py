"""What the templates draw: one `FieldView` per input, built from the spec, the values (typed,
or as the person typed them) and the rules' outcome. Templates then hold no logic beyond
choosing the widget."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from .display import CURRENCY_SIGNS, amount_hint, display_text, input_text, money_currency
from .i18n import file_size, word
from .rules import Outcome
from .spec import FieldSpec
from .values import FileLimits, Submitted, UploadedFile, row_is_blank

Choices = Callable[[str], list[tuple[str, str]] | None]      # ref target -> [(key, label)] or None


@dataclass
class RenderOptions:
    lang: str = "zh"
    tz: str = "Asia/Shanghai"
    lookup_url: Callable[[str], str] | None = None            # ref target -> URL answering ?q=
    choices: Choices | None = None
    ref_labels: dict[tuple[str, str], str] = field(default_factory=dict)   # (target, key) -> label
    limits: FileLimits = FileLimits()
    file_url: Callable[[str], str] | None = None


@dataclass
class FieldView:
    spec: FieldSpec
    key: str
    id: str
    name: str
    label: str
    widget: str
    required: bool
    hidden: bool
    error: str | None
    help: str
    text: str = ""
    checked: bool = False
    selected: tuple[str, ...] = ()
    options: list[tuple[str, str]] = field(default_factory=list)
    placeholder: str = ""
    span: int = 1
    editable: bool = True
    hint: str = ""
    sign: str = ""
    lookup: str = ""
    ref_label: str = ""
    accept: str = ""
    columns: list["FieldView"] = field(default_factory=list)
    rows: list[list["FieldView"]] = field(default_factory=list)
    blank_row: list["FieldView"] = field(default_factory=list)

    @property
    def described_by(self) -> str:
        return " ".join(x for x in (self.id + "-help" if self.help else "", self.id + "-error") if x)


def widget_of(f: FieldSpec, opts: RenderOptions) -> str:
    t, w = f.type, f.widget
    if f.is_table:
        return "table"
    if f.computed or not f.editable:
        return "readonly"
    if t == "enum":
        return "radio" if w == "radio" else "select"
    if t == "multi_enum":
        return "checkboxes"
    if t == "bool":
        return "checkbox"
    if t == "text" or w == "textarea":
        return "textarea"
    if t == "ref":
        if opts.choices is not None and opts.choices(f.field.ref or "") is not None:
            return "ref_select"
        return "ref"
    if t == "file" or w == "upload":
        return "file"
    return {"money": "money", "percent": "percent", "date": "date", "datetime": "datetime",
            "integer": "number", "number": "number"}.get(t, "text")


def _raw_text(raw: Submitted, name: str) -> str:
    v = raw.get(name)
    return v if isinstance(v, str) else ""


def currency_sign(f: Any, record: Any = None) -> str:
    """The sign before a money field's figure: its fixed currency's, or the one the record holds
    (`currency: {field: currency}`); empty while that is not known — never a guessed ¥."""
    code = money_currency(f, record)
    return "" if code is None else CURRENCY_SIGNS.get(code, code)


def field_view(f: FieldSpec, path: tuple, value: Any, raw: Submitted | None, outcome: Outcome | None,
               opts: RenderOptions, errors: dict[str, str], record: Any = None) -> FieldView:
    """`record`: the values beside this one (the form's, or the row's for a sub-table column), for
    a money field whose currency another field holds."""
    lang, r = opts.lang, f.field
    key = ".".join(map(str, path))
    fid = "f-" + key.replace(".", "-")
    required = key in outcome.required if outcome is not None else r.required
    hidden = outcome is not None and key in outcome.hidden
    view = FieldView(f, key, fid, key, f.label(lang), widget_of(f, opts), required, hidden, errors.get(key),
                     r.help.text(lang), placeholder=f.placeholder.text(lang) if f.placeholder else "",
                     editable=f.editable)
    use_raw = raw is not None and f.editable and not hidden
    submitted = raw if use_raw else None
    if r.type_name in ("enum", "multi_enum"):
        view.options = [(v.value, v.label.text(lang) or v.value) for v in r.values]
    if view.widget == "ref_select" and opts.choices is not None:
        view.options = opts.choices(r.ref or "") or []
    if view.widget in ("checkbox",):
        view.checked = (any(isinstance(v, str) and v for v in submitted.getlist(key)) if submitted is not None
                        else bool(value))
    elif view.widget == "checkboxes":
        view.selected = tuple(submitted.getlist(key)) if submitted is not None else tuple(value or ())
    elif view.widget == "readonly":
        view.text = (display_text(r, value, lang, opts.tz, record=record) if value is not None
                     else (word("computed", lang) if f.computed else word("empty", lang)))
        if r.type_name == "ref" and value is not None:     # a person, a firm, a unit: by name
            view.ref_label = opts.ref_labels.get((r.ref or "", str(value)), "")
    elif view.widget == "file":
        current = value if isinstance(value, str) else ""
        if submitted is not None and isinstance(submitted.get(key), UploadedFile):
            current = ""
        elif submitted is not None:
            current = _raw_text(submitted, key + ".__current")
        view.text = current
        view.accept = ",".join(opts.limits.extensions)
        view.hint = word("allowed_files", lang, types=" ".join(opts.limits.extensions),
                         size=file_size(opts.limits.max_bytes))
    else:
        view.text = _raw_text(submitted, key) if submitted is not None else input_text(r, value, opts.tz)
    if r.type_name == "money":
        view.sign = currency_sign(r, record)
    if r.type_name in ("money", "number") and value is not None and not use_raw:
        view.hint = amount_hint(r, value, lang)
    if view.widget == "ref":
        view.lookup = opts.lookup_url(r.ref) if opts.lookup_url and r.ref else ""
        view.ref_label = opts.ref_labels.get((r.ref or "", view.text), "")
        view.placeholder = view.placeholder or word("search", lang)
    view.span = f.span(2)
    return view


def table_view(f: FieldSpec, path: tuple, rows: list[dict], raw: Submitted | None, outcome: Outcome | None,
               opts: RenderOptions, errors: dict[str, str], extra_blank: int = 0) -> FieldView:
    view = field_view(f, path, None, None, outcome, opts, errors)
    view.columns = [field_view(c, path + ("__i__", c.name), None, None, None, opts, {}) for c in f.columns]
    indexes = raw.row_indexes(f.name) if raw is not None else list(range(len(rows)))
    if raw is not None:
        indexes = [i for i in indexes if (raw.get(f"{f.name}.{i}._delete") or "") not in ("on", "true", "1")
                   and not row_is_blank(f, f"{f.name}.{i}", raw)]
    shown: list[list[FieldView]] = []
    for pos, i in enumerate(indexes):
        row = rows[i] if raw is None and i < len(rows) else {}
        row_raw = _row_raw(raw, f.name, i, pos)
        shown.append([field_view(c, path + (pos, c.name), row.get(c.name), row_raw, outcome, opts, errors,
                                 record=held_values(row, row_raw, pos, f.name)) for c in f.columns])
    for _ in range(extra_blank):
        pos = len(shown)
        shown.append([field_view(c, path + (pos, c.name), c.field.default, None, None, opts, {}) for c in f.columns])
    view.rows = shown
    view.blank_row = [field_view(c, path + ("__i__", c.name), c.field.default, None, None, opts, {})
                      for c in f.columns]
    view.span = 2
    return view


def held_values(values: Any, raw: Submitted | None, pos: Any = None, table: str = "") -> Any:
    """The values a money field's currency may be read from: the typed ones, else what was just
    posted (a row re-shown after a refused submit has only that)."""
    if raw is None:
        return values
    prefix = f"{table}.{pos}." if table else ""
    posted = {k[len(prefix):]: v[-1] for k, v in raw.values.items()
              if k.startswith(prefix) and v and isinstance(v[-1], str) and v[-1].strip()}
    return {**posted, **{k: v for k, v in (values or {}).items() if v is not None}}


def _row_raw(raw: Submitted | None, table: str, index: int, pos: int) -> Submitted | None:
    """The posted values of row `index`, renamed to the row's position after removed rows."""
    if raw is None:
        return None
    old, new = f"{table}.{index}.", f"{table}.{pos}."
    return Submitted({new + k[len(old):]: v for k, v in raw.values.items() if k.startswith(old)})
