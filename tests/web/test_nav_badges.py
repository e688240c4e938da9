"""The navigation's badges are counted by the app that renders the page. The entries are shared by
every app of the process (a test session builds several, each on its own database): a badge that
counted with the app that registered it last read another database — a 500 once that one was gone."""
from __future__ import annotations

from runtime.cli.seed import ensure_deployed
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade
from runtime.web.app import create_app

from .conftest import ROOT, signed_in


def test_each_app_counts_its_own_badges(app, tmp_path):
    path = tmp_path / "other.db"
    other = make_engine(f"sqlite:///{path}")
    upgrade(other)
    ensure_deployed(other, str(ROOT / "configs"), "test")
    create_app(other)                     # a second app registers the shared entries again
    other.dispose()
    path.unlink()                         # and its database is gone
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    rm = signed_in(app, "rm_sh_01")
    for url in ("/ui/", "/ui/alerts", "/ui/inbox"):
        page = rm.get(url)
        assert page.status_code == 200, (url, page.status_code)
        assert "预警中心" in page.text or "Alerts" in page.text
