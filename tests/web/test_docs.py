"""`/docs` works offline: Swagger UI comes from the app's own copy (runtime/http/static/swagger),
starts from a script file under the strict Content-Security-Policy, and in real Chromium shows
every operation without one request leaving the machine."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

from fastapi.testclient import TestClient

from runtime.http.docs import SWAGGER_DIR

from .browser import ARGS, CHROMIUM, LiveServer, needs_chromium, shot

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def test_the_docs_page_loads_only_the_apps_own_files(app):
    client = TestClient(app)
    r = client.get("/docs")
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert "<script>" not in r.text                                   # no inline script: the CSP would block it
    assets = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert assets and all(a.startswith("/static/swagger/") for a in assets), assets
    assert 'data-openapi-url="/openapi.json"' in r.text
    for asset in assets:
        got = client.get(asset)
        assert got.status_code == 200 and got.content, asset
    assert client.get("/static/swagger/init.js").headers["content-type"].startswith(("text/javascript",
                                                                                     "application/javascript"))
    assert client.get("/redoc").status_code == 404                    # ReDoc is not offered (it needs a CDN)


def test_the_vendored_copy_is_the_version_its_readme_names():
    readme = (SWAGGER_DIR / "README.md").read_text(encoding="utf-8")
    version = re.search(r"swagger-ui-dist (\d+\.\d+\.\d+)", readme).group(1)
    bundle = (SWAGGER_DIR / "swagger-ui-bundle.js").read_text(encoding="utf-8")
    assert f'"{version}"' in bundle
    for name in ("LICENSE", "NOTICE", "swagger-ui.css", "favicon-32x32.png", "init.js"):
        assert (SWAGGER_DIR / name).is_file(), name
    assert "Apache License" in (SWAGGER_DIR / "LICENSE").read_text(encoding="utf-8")


@needs_chromium
def test_swagger_ui_renders_every_operation_without_the_network(app, tmp_path: Path):
    from playwright.sync_api import sync_playwright
    spec = app.openapi()
    operations = sum(1 for item in spec["paths"].values() for method in item if method in HTTP_METHODS)
    requested, problems = [], []
    with LiveServer(app) as live, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda req: requested.append(req.url))
        page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.goto(live.url + "/docs", wait_until="networkidle")
        page.wait_for_selector(".opblock", timeout=30_000)
        shown = page.locator(".opblock").count()
        page.locator(".opblock-summary").first.click()
        page.wait_for_selector(".opblock-body", timeout=10_000)
        shot(page, "api_docs")
        browser.close()
    assert shown == operations > 10
    outside = [u for u in requested if urlparse(u).hostname not in ("127.0.0.1", "localhost")
               and not u.startswith(("data:", "blob:"))]
    assert outside == [], outside
    assert any(u.endswith("/static/swagger/swagger-ui-bundle.js") for u in requested)
    assert problems == [], problems                                   # no script error, no CSP refusal
