"""One demo database per test session (deploy configs/, a small demo bank, the demo people),
and signed-in test clients."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from examples.demo_bank.users import DEMO_PASSWORD, seed_demo_users
from runtime.auth.org import OrgTree
from runtime.auth.users import UserStore
from runtime.cli.seed import ensure_deployed, seed_demo
from runtime.records.service import Records
from runtime.storage.db import make_engine
from runtime.storage.migrate import upgrade
from runtime.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def _screenshot_dir(tmp_path_factory) -> None:
    from .browser import use_scratch_screenshots
    use_scratch_screenshots(tmp_path_factory.mktemp("screenshots"))


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("web") / "demo.db"
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    ensure_deployed(engine, str(ROOT / "configs"), "test")
    records = Records(engine)
    seed_demo(records, scale=0.02, transactions=0, actor="test")
    seed_demo_users(UserStore(engine), OrgTree(records.live.bundle))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(demo_url):
    eng = make_engine(demo_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def app(engine, tmp_path_factory):
    import os
    os.environ.setdefault("BANYAN_SECRET_FILE", str(tmp_path_factory.mktemp("secret") / "secret"))
    return create_app(engine)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def signed_in(app, user: str, password: str = DEMO_PASSWORD) -> TestClient:
    client = TestClient(app)
    page = client.get("/ui/signin")
    r = client.post("/ui/signin", data={"csrf_token": csrf_of(page.text), "username": user, "password": password,
                                        "next": "/ui/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


@pytest.fixture
def rm(app) -> TestClient:
    return signed_in(app, "rm_sh_01")


@pytest.fixture
def admin(app) -> TestClient:
    return signed_in(app, "admin")
