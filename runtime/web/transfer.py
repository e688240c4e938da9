"""Import (CSV/XLSX upload, all or nothing, a report of every problem by line and field) and
export (the person's records in scope, streamed) for any entity."""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile

from runtime.deploy.live import UnknownEntity
from runtime.records.errors import RecordError
from runtime.records.tabular import csv_chunks, import_file, write_xlsx
from runtime.web.context import WebContext, redirect
from runtime.web.text import text

MAX_IMPORT = 20 * 1024 * 1024


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
    async def import_post(request: Request, name: str) -> Response:
        lang, user = web.lang(request), web.user(request)
        ent = entity(request, name)
        if ent is None:
            return web.not_found(request, name)
        if not user.can("records.import"):
            return web.denied(request)
        form = await request.form()
        if not web.check_csrf(request, form):
            return web.denied(request, text("signin_csrf", lang))
        upload = form.get("file")
        suffix = Path(upload.filename or "").suffix.lower() if isinstance(upload, UploadFile) else ""
        if suffix not in (".csv", ".xlsx"):
            return page(request, ent, 422, error=text("import_type", lang))
        data = await upload.read(MAX_IMPORT + 1)
        if len(data) > MAX_IMPORT:
            return page(request, ent, 413, error=text("import_too_big", lang, mb=MAX_IMPORT // (1024 * 1024)))
        scope = web.scope(user)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / ("upload" + suffix)
            path.write_bytes(data)
            try:
                count = import_file(web.records, name, path, actor=user.name, scope=scope)
            except RecordError as exc:
                rows = [(p.path[0] if p.path and isinstance(p.path[0], int) else "",
                         ".".join(map(str, p.path[1:] if p.path and isinstance(p.path[0], int) else p.path)),
                         p.message) for p in exc.problems] or [("", "", exc.render(lang))]
                return page(request, ent, 422, problems=rows, error=text("import_failed", lang, n=len(rows)))
            except (ValueError, OSError, KeyError):             # a file openpyxl or csv cannot read
                return page(request, ent, 422, error=text("import_type", lang))
        request.session["flash"] = text("import_done", lang, n=count)
        return redirect(f"/ui/e/{name}")

    @r.get("/ui/e/{name}/export")
    def export(request: Request, name: str, format: str = "csv") -> Response:
        ent = entity(request, name)
        if ent is None:
            return web.not_found(request, name)
        scope = web.scope(web.user(request))
        names = ["id"] + [f.name for f in ent.fields]
        rows = web.records.iter_all(name, scope=scope)
        if format == "xlsx":
            buf = io.BytesIO()
            write_xlsx(buf, name, names, rows)
            return Response(buf.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"content-disposition": f'attachment; filename="{name}.xlsx"'})
        return StreamingResponse(csv_chunks(names, rows, bom=True), media_type="text/csv; charset=utf-8",
                                 headers={"content-disposition": f'attachment; filename="{name}.csv"'})

    return r

