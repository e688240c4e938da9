"""Running the web app on a loopback port and driving Debian's Chromium headless (Playwright,
no browser download). Browser tests skip, saying why, only when /usr/bin/chromium is absent."""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
TRACKED_SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
_scratch: list[Path] = []


def use_scratch_screenshots(path: Path) -> None:
    """Where screenshots go on a normal run (a pytest tmp dir; conftest sets it)."""
    _scratch[:] = [path]


def screenshots() -> Path:
    """tests/web/screenshots/ (tracked, for the README) only with BANYAN_SCREENSHOTS=1, so an
    ordinary test run changes no tracked file; otherwise the session's tmp dir."""
    if os.environ.get("BANYAN_SCREENSHOTS") == "1" or not _scratch:
        return TRACKED_SCREENSHOTS
    return _scratch[0]


def shot(page, name: str) -> None:
    target = screenshots()
    target.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target / f"{name}.png"), full_page=True)
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(),
                                    reason="Debian's chromium is not installed (apt-get install chromium); "
                                           "browser tests drive /usr/bin/chromium and never download one")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, app):
        import uvicorn
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def sign_in(page, base: str, user: str, password: str = "banyan-demo-2026") -> None:
    page.goto(base + "/ui/signin")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("button[type=submit].primary")
    page.wait_for_url(base + "/ui/")
