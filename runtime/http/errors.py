"""How every error leaves the HTTP app, in one place.

- A `BanyanError` (dsl/errors.py) is `{"error": code, "message": text, "detail": [{"loc", "msg",
  "type"}]}` with the error's 4xx status, the message in the caller's language.
- FastAPI's request validation is the same shape (422, `invalid`, one item per field path).
- Anything else is a bug: 500 with a generic translated message and a reference; the traceback
  goes to the log under that reference, never to the person.

The caller's language: the signed-in person's choice (the session's `lang`, when the web app
is on), else `Accept-Language`, else English for the JSON API. When the web app is on it sets
`app.state.error_page(request, error, lang)`, and errors on its pages (`/ui/…`) come back as a
page instead of JSON.
"""
from __future__ import annotations

import json
import logging
import math
import secrets
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from dsl.errors import LANGS, BanyanError, lang_of, words
from runtime.records.store import json_value

log = logging.getLogger("banyan.http")
PAGES = "/ui/"


class ServerFault(BanyanError):
    """What a person is told about a bug: nothing of it, only a reference to find it in the log."""
    code, status, key = "internal", 500, "banyan.internal"

    def __init__(self, ref: str):
        super().__init__(f"internal error (reference {ref})", params={"ref": ref})
        self.ref = ref


class BanyanJSON(JSONResponse):
    """The API's one encoder: Decimal as its string, dates and times in ISO 8601 (with their
    offset: `+00:00` for UTC), non-ASCII kept. A float that is not a number (NaN, ±∞) goes out as
    null: JSON has no spelling for it."""

    def render(self, content: Any) -> bytes:
        try:
            text = json.dumps(content, default=json_value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except ValueError:
            text = json.dumps(_finite(content), default=json_value, ensure_ascii=False, separators=(",", ":"))
        return text.encode()


def _finite(value: Any) -> Any:
    """`value` with every NaN or infinite float made None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def accepted_lang(header: str | None) -> str | None:
    """The most wanted of our languages in an `Accept-Language` header (`en-GB;q=0.8, zh`)."""
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if lang in LANGS and q > 0:
            wanted.append((q, -position, lang))
    return max(wanted)[2] if wanted else None


def request_lang(request: Request, default: str = "en") -> str:
    """The language to answer `request` in (see the module docstring)."""
    chosen = request.session.get("lang") if "session" in request.scope else None
    return lang_of(chosen or accepted_lang(request.headers.get("accept-language")), default)


def error_json(error: BanyanError, lang: str) -> JSONResponse:
    return BanyanJSON(error.to_dict(lang), status_code=error.status)


def error_response(request: Request, error: BanyanError) -> Response:
    """A page for the web app's pages, JSON everywhere else."""
    page = getattr(request.app.state, "error_page", None)
    if page is not None and request.url.path.startswith(PAGES):
        return page(request, error)
    return error_json(error, request_lang(request))


def install_errors(app: FastAPI) -> None:
    """The app's three error handlers; no other handler is needed (or wanted) anywhere."""

    # Plain `def`s: Starlette runs them in its threadpool, so an error page's queries hold up no
    # other request of the process.
    @app.exception_handler(BanyanError)
    def _banyan(request: Request, exc: BanyanError) -> Response:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        lang = request_lang(request)
        return BanyanJSON({"error": "invalid", "message": words("banyan.invalid_request", lang), "detail": detail},
                          status_code=422)

    @app.exception_handler(Exception)
    def _bug(request: Request, exc: Exception) -> Response:
        ref = secrets.token_hex(6)
        log.error("unhandled error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
        fault = ServerFault(ref)
        try:
            return error_response(request, fault)
        except Exception:                       # the page itself failed: the plain JSON still says it
            log.exception("the error page for %s failed", ref)
            return error_json(fault, request_lang(request))
