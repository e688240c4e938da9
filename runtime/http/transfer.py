"""Spreadsheets through the API: import a CSV/XLSX file (all rows or none; a refusal lists every
problem with its `row` and `column` as written, in the caller's language), export the records a
query selects (for people in their language, or `lang=raw` for machines), and the import template."""
from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from fastapi import APIRouter, File, Header, Request, UploadFile
from fastapi.responses import Response, StreamingResponse

from runtime.auth.scope import Scope
from runtime.http.errors import request_lang
from runtime.http.routes import JsonRoute
from runtime.records.errors import InvalidRecord
from runtime.records.listing import list_records
from runtime.records.service import Records
from runtime.records.tabular import import_file
from runtime.records.tabular_export import export_chunks, export_records
from runtime.records.tabular_template import write_template
from runtime.records.validation import Problem

MAX_IMPORT = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RESERVED = {"format", "lang", "q", "order"}


def _download(filename: str) -> dict[str, str]:
    ascii_name = filename.encode("ascii", "ignore").decode() or "download"
    return {"content-disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"}


def transfer_router(records: Callable[[], Records], scope: Callable[[Request], Scope | None],
                    permit: Callable[[Request, str], None]) -> APIRouter:
    r = APIRouter(tags=["records"], route_class=JsonRoute)

    def language(request: Request, lang: str | None) -> str | None:
        if lang == "raw":
            return None
        return lang if lang in ("zh", "en") else request_lang(request, "zh")

    @r.post("/records/{entity}/import")
    def import_sheet(entity: str, request: Request, file: UploadFile = File(...),
                           x_banyan_actor: str = Header("api")) -> dict:
        """Import a .csv (UTF-8 or GBK) or .xlsx file: every row, or none and a 422 listing each
        problem (`detail[].row`, `detail[].column` as written in the file, `msg`)."""
        permit(request, "records.import")
        recs = records()
        recs.live.entity(entity)                         # an unknown entity is a 404 before the upload is read
        suffix = Path(file.filename or "").suffix.lower()
        data = file.file.read(MAX_IMPORT + 1)
        if len(data) > MAX_IMPORT:
            raise InvalidRecord(f"the file is larger than {MAX_IMPORT // (1024 * 1024)} MB",
                                [Problem(("file",), "too large", "size")])
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / ("upload" + suffix)
            path.write_bytes(data)
            count = import_file(recs, entity, path, actor=x_banyan_actor, scope=scope(request))
        return {"entity": entity, "imported": count}

    @r.get("/records/{entity}/export", response_class=Response,
           responses={200: {"content": {"text/csv": {}, XLSX: {}}}})
    def export_sheet(entity: str, request: Request, format: str = "xlsx", lang: str | None = None,
                     q: str = "", order: str | None = None) -> Response:
        """The records the query selects (`q` searches, `FIELD=value` filters, `order=-field`), as
        .xlsx or .csv: headers and values for people in `lang` (zh/en, default the caller's), or
        `lang=raw` for field names, codes and keys."""
        recs, who = records(), scope(request)
        ent = recs.live.entity(entity)
        filters = {k: v for k, v in request.query_params.items() if k not in RESERVED}
        list_records(recs, entity, who, search=q, filters=filters, order=order, limit=1)   # refuse bad filters now
        people = language(request, lang)
        fmt = "csv" if format == "csv" else "xlsx"
        filename = f"{ent.meta.label.text(people or 'en') or entity}.{fmt}"
        if fmt == "csv":
            chunks = export_chunks(recs, entity, lang=people, scope=who, search=q, filters=filters, order=order)
            return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=_download(filename))
        buf = io.BytesIO()
        export_records(recs, entity, buf, "xlsx", lang=people, scope=who, search=q, filters=filters, order=order)
        return Response(buf.getvalue(), media_type=XLSX, headers=_download(filename))

    @r.get("/records/{entity}/template", response_class=Response, responses={200: {"content": {XLSX: {}}}})
    def template(entity: str, request: Request, lang: str | None = None) -> Any:
        """An .xlsx import template: the headers, a comment on each (type, required, unit, choices),
        drop-downs of the choices."""
        recs = records()
        ent = recs.live.entity(entity)
        people = language(request, lang) or "zh"
        buf = io.BytesIO()
        write_template(buf, recs, entity, people)
        return Response(buf.getvalue(), media_type=XLSX,
                        headers=_download(f"{ent.meta.label.text(people) or entity}-template.xlsx"))

    return r
