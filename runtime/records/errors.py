"""Errors the records service raises: each carries an HTTP status and field-level problems."""
from __future__ import annotations

from dsl.errors import BanyanError
from runtime.records.validation import Problem


class RecordError(BanyanError):
    """The records service's errors (catalogue keys `records.<code>`); `to_dict(lang)` is the API's body."""
    status, code, namespace = 400, "bad_request", "records"

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message, problems=problems or [])


class InvalidRecord(RecordError):
    """Field problems (each says itself in the reader's language); the headline in another language
    than English is the catalogue's alone, not mixed with the English summary."""
    status, code = 422, "invalid"
    generic = True


class NotFound(RecordError):
    status, code = 404, "not_found"


class Forbidden(RecordError):
    """A right the person lacks (a permission, or changing a record they may only read)."""
    status, code = 403, "forbidden"


class VersionConflict(RecordError):
    status, code = 409, "conflict"


class ReadOnly(RecordError):
    """The entity is unavailable in the deployed bundle (runtime/deploy/live.py): read, not changed."""
    status, code = 409, "read_only"


def invalid(entity: str, problems: list[Problem], rows: int | None = None) -> InvalidRecord:
    if rows is None:
        head = f"the {entity} record is not valid"
    else:
        bad = len({p.path[0] for p in problems if p.path})
        head = f"{bad} of {rows} {entity} row(s) are not valid; nothing was written"
    return InvalidRecord(head + ": " + "; ".join(
        (".".join(map(str, p.path)) + ": " if p.path else "") + p.message for p in problems[:5])
        + (f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""), problems)
