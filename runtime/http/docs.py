"""`/docs`: the interactive API reference (Swagger UI), served entirely by the app.

FastAPI's own docs page loads Swagger UI from a CDN and starts it with an inline script; this
one loads the vendored copy in `static/swagger/` (see its README for version and licence) and
starts it from `static/swagger/init.js`, so it works offline and under the pages' strict
Content-Security-Policy (`script-src 'self'`). ReDoc is not offered.
"""
from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_DIR = Path(__file__).resolve().parent / "static" / "swagger"
SWAGGER_URL = "/static/swagger"


def docs_html(title: str, openapi_url: str, assets: str = SWAGGER_URL) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Mount the vendored Swagger UI and add `/docs` (create the app with `docs_url=None`)."""
    app.mount(SWAGGER_URL, StaticFiles(directory=str(SWAGGER_DIR)), name="swagger-static")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")       # behind a proxy's path prefix
        return HTMLResponse(docs_html(f"{app.title} — API", root + (app.openapi_url or "/openapi.json"),
                                      root + SWAGGER_URL))
