"""Import (CSV/XLSX upload, all or nothing, a report of every problem by line and column as the
person wrote it), export (the list the person is looking at — its search, filters and order —
in their language, streamed) and the import template, for any entity."""
from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.datastructures import FormData, UploadFile

from runtime.deploy.live import UnknownEntity
from runtime.records.errors import RecordError
from runtime.records.listing import list_records
from runtime.records.tabular import ImportRefused, import_file
from runtime.records.tabular_export import export_chunks, export_records
from runtime.records.tabular_template import write_template
from runtime.web.context import WebContext, redirect
from runtime.web.forms import posted
from runtime.web.records import filter_fields
from runtime.web.text import text

MAX_IMPORT = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def list_query(entity: Any, params: Mapping[str, str]) -> tuple[str, dict[str, str], str | None]:
    """(search, filters, order) of the records list page's query (runtime/web/records.py)."""
    stored = {f.name for f in entity.fields if not f.computed}
    filters = {f.name: params.get(f.name, "") for f in filter_fields(entity)}
    filters.update({k: v for k, v in params.items() if k in stored and v and k not in filters})
    return (params.get("q") or "")[:200], filters, params.get("order") or None


def attachment(filename: str) -> dict[str, str]:
    """A download's header: an ASCII name, and the UTF-8 one (RFC 6266) for a Chinese label."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "export"
    return {"content-disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"}


def transfer_router(web: WebContext) -> APIRouter:
    r = APIRouter(include_in_schema=False)

    def page(request: Request, ent, status: int = 200, problems=(), error: str = "") -> HTMLResponse:
        lang = web.lang(request)
        return web.page(request, "import.html", status, title=text("import_title", lang, entity=ent.meta.label.text(lang)),
                        entity=ent, problems=list(problems), error=error,
                        fields=[f for f in ent.fields if not f.computed])

    def entity(request: Request, name: str):
        try:
            return web.live().entity(name)
        except UnknownEntity:
            return None

    @r.get("/ui/e/{name}/import")
    def import_page(request: Request, name: str) -> HTMLResponse:
        ent = entity(request, name)
        if ent is None:
            return web.not_found(request, name)
        if not web.user(request).can("records.import"):
            return web.denied(request)
        return page(request, ent)

    @r.post("/ui/e/{name}/import")
    def import_post(request: Request, name: str, form: FormData = Depends(posted)) -> Response:
        lang, user = web.lang(request), web.user(request)
        ent = entity(request, name)
        if ent is None:
            return web.not_found(request, name)
        if not user.can("records.import"):
            return web.denied(request)
        if not web.check_csrf(request, form):
            return web.denied(request, text("signin_csrf", lang))
        upload = form.get("file")
        suffix = Path(upload.filename or "").suffix.lower() if isinstance(upload, UploadFile) else ""
        if not isinstance(upload, UploadFile) or suffix not in (".csv", ".xlsx"):
            return page(request, ent, 422, error=text("import_type", lang))
        data = upload.file.read(MAX_IMPORT + 1)
        if len(data) > MAX_IMPORT:
            return page(request, ent, 413, error=text("import_too_big", lang, mb=MAX_IMPORT // (1024 * 1024)))
        scope = web.scope(user)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / ("upload" + suffix)
            path.write_bytes(data)
            try:
                count = import_file(web.records, name, path, actor=user.name, scope=scope)
            except ImportRefused as exc:
                rows = [("" if r.line is None else r.line, r.column, r.message) for r in exc.report(lang)]
                return page(request, ent, 422, problems=rows, error=exc.render(lang))
            except RecordError as exc:
                return page(request, ent, 422, error=exc.render(lang))
        request.session["flash"] = text("import_done", lang, n=count)
        return redirect(f"/ui/e/{name}")

    @r.get("/ui/e/{name}/export")
    def export(request: Request, name: str, format: str = "csv") -> Response:
        lang = web.lang(request)
        ent = entity(request, name)
        if ent is None:
            return web.not_found(request, name)
        scope = web.scope(web.user(request))
        search, filters, order = list_query(ent, request.query_params)
        fmt = "xlsx" if format == "xlsx" else "csv"
        filename = f"{ent.meta.label.text(lang) or name}.{fmt}"
        try:            # a filter or an order the list refuses is refused here, before the download starts
            list_records(web.records, name, scope, search=search, filters=filters, order=order, limit=1)
        except RecordError as exc:
            return web.page(request, "message.html", exc.status, title=text("export", lang),
                            message=exc.render(lang), code=exc.code)
        if fmt == "xlsx":
            buf = io.BytesIO()
            export_records(web.records, name, buf, "xlsx", lang=lang, scope=scope, search=search,
                           filters=filters, order=order)
            return Response(buf.getvalue(), media_type=XLSX, headers=attachment(filename))
        chunks = export_chunks(web.records, name, lang=lang, scope=scope, search=search, filters=filters, order=order)
        return StreamingResponse(chunks, media_type="text/csv; charset=utf-8", headers=attachment(filename))

    @r.get("/ui/e/{name}/template")
    def template(request: Request, name: str) -> Response:
        lang = web.lang(request)
        ent = entity(request, name)
        if ent is None:
            return web.not_found(request, name)
        buf = io.BytesIO()
        write_template(buf, web.records, name, lang)
        label = ent.meta.label.text(lang) or name
        return Response(buf.getvalue(), media_type=XLSX,
                        headers=attachment(f"{label}{'导入模板' if lang == 'zh' else ' import template'}.xlsx"))

    return r
