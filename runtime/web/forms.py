"""The bridge between forms/ and the records service for entity pages: render options for a
person (lookups, org units they may use), posted data → checked values, and the records
service's problems → messages next to the fields."""
from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from dsl.bank_time import zone_name
from forms import FieldError, RenderOptions, Submitted, UploadedFile, parse, validate
from forms.rules import Outcome
from runtime.auth.users import User
from runtime.records.errors import RecordError

MAX_UPLOAD = 10 * 1024 * 1024

_CODES = {
    "unique": ("已被其他记录使用", "Already used by another record"),
    "reference": ("找不到该编号对应的记录", "No record has this key"),
    "required": ("此项必填", "This field is required"),
    "scope": ("不在您的可见范围内：请填写本机构（或下辖机构）的客户或机构", "Outside your org scope: name a client or unit of your own branch"),
}


async def posted(request: Request) -> FormData:
    """A POST's form, read on the event loop (a FastAPI dependency), so that the handler itself is a
    plain `def` FastAPI runs in its threadpool: a handler that queries the database or hashes a
    password inside `async def` holds up every other request of its process until it is done."""
    return await request.form()


def submitted(form: Any) -> Submitted:
    """Starlette form data → forms.Submitted (uploads read into memory, at most MAX_UPLOAD + 1 bytes;
    called in the threadpool, where reading the spooled file may block)."""
    pairs: list[tuple[str, Any]] = []
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            data = value.file.read(MAX_UPLOAD + 1)
            pairs.append((name, UploadedFile(value.filename or "", value.content_type or "", data)))
        else:
            pairs.append((name, value))
    return Submitted.of(pairs)


def options_for(web: Any, user: User, lang: str, labels: dict | None = None) -> RenderOptions:
    """`labels`: {(ref target, key): name} of the form's `ref` values (runtime/web/names.py), shown
    beside a reference's key."""
    tree = web.tree()
    scope = web.scope(user)
    units = [(u, ("　" * depth) + tree.label(u, lang)) for u, depth in tree.ordered() if scope.holds(u)]

    def choices(target: str) -> list[tuple[str, str]] | None:
        return units if target == "org_unit" else None
    return RenderOptions(lang=lang, tz=zone_name(), lookup_url=lambda target: f"/ui/lookup/{target}", choices=choices,
                         ref_labels=dict(labels or {}))


def check(web: Any, entity: str, sub: Submitted, lang: str, user: User) -> tuple[dict, Outcome]:
    """Typed values and every forms/ rule (the org scope is the records service's decision,
    on the normalised values, when the record is saved)."""
    spec = web.spec(entity)
    values, problems = parse(spec, sub, lang, tz=zone_name())
    outcome = validate(spec, values, lang)
    return outcome.values, read_first(outcome, problems)


def read_first(outcome: Outcome, unread: list[FieldError]) -> Outcome:
    """`outcome` with the problems of the values that could not be read first, each in place of
    what the rules said of its (then empty) field: "“八个亿” is not a number", never "required" —
    the words the records service and the flow service give for the same text."""
    keys = {e.key for e in unread}
    outcome.errors = list(unread) + [e for e in outcome.errors if e.key not in keys]
    return outcome


def record_problems(exc: RecordError, lang: str) -> list[FieldError]:
    """The records service's problems next to their fields, by path and code, in `lang`."""
    out = problems_shown(exc.problems, lang)
    if not out:
        out.append(FieldError((), exc.render(lang), exc.code))
    return out


def problems_shown(problems: Any, lang: str) -> list[FieldError]:
    """Field problems (dsl/field_rules.Problem) as a form shows them, in `lang`."""
    out = []
    for p in problems:
        words = _CODES.get(p.code) if getattr(p, "key", None) is None else None
        text = getattr(p, "text", None)
        message = (words[1] if lang == "en" else words[0]) if words else (text(lang) if callable(text) else p.message)
        out.append(FieldError(tuple(p.path), message, p.code))
    return out


def with_service_problems(outcome: Outcome, found: Any, lang: str) -> Outcome:
    """`outcome` (the form's own problems) and, after them, what the records service would also
    refuse (`Records.problems`: references, uniqueness, scope …) on fields the form found nothing
    wrong with — so a person fixes everything in one go."""
    keys = {e.key for e in outcome.errors}
    outcome.errors = list(outcome.errors) + [e for e in problems_shown(found, lang) if e.key not in keys]
    return outcome
