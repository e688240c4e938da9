"""One error, every door: the same bad request gets the same code at the JSON API, the CLI and
a page, in the asker's language, and a bug shows none of Python's words anywhere."""
from __future__ import annotations

import logging
import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from runtime.auth.users import UserStore
from runtime.cli.main import main
from runtime.http.app import create_app as create_api
from runtime.http.errors import accepted_lang
from runtime.storage.migrate import upgrade
from runtime.web.app import create_app as create_web
from tests.leaks import PYTHON_TEXT

from .bundles import GROUP
from .test_cli import run, write_bundle

PASSWORD = "a long enough password"


@pytest.fixture
def web_client(engine, tmp_path, monkeypatch) -> TestClient:
    """The web app on an empty database, with one signed-in administrator."""
    monkeypatch.setenv("BANYAN_SECRET_FILE", str(tmp_path / "secret"))
    upgrade(engine)
    UserStore(engine).save("ops.admin", display_name="Ops", org_unit="head_office", password=PASSWORD,
                           is_admin=True, new=True)
    client = TestClient(create_web(engine), raise_server_exceptions=False)
    page = client.get("/ui/signin")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/ui/signin", data={"csrf_token": token, "username": "ops.admin", "password": PASSWORD,
                                        "next": "/ui/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def test_nothing_deployed_is_one_code_at_every_door(engine, db_url, web_client) -> None:
    api = web_client.get("/records/company")
    assert api.status_code == 409 and api.json()["error"] == "nothing_deployed"

    cli = run(db_url, "records", "get", "company", "C1")
    assert cli.exit_code == 2 and "error: nothing_deployed: " in cli.output

    page = web_client.get("/ui/e/company")
    assert page.status_code == 409 and page.headers["content-type"].startswith("text/html")
    assert "nothing_deployed" in page.text and "尚未部署任何配置" in page.text       # the person's language: zh
    assert "nothing is deployed" not in page.text
    web_client.post("/ui/lang", data={"to": "en", "csrf_token": _csrf(web_client)})
    assert "nothing is deployed in this database" in web_client.get("/ui/e/company").text
    assert "nothing is deployed" in web_client.get("/records/company").json()["message"]      # her choice, API too


def _csrf(client: TestClient) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get("/ui/").text).group(1)


def test_unknown_entity_is_one_code_at_the_api_and_the_cli(engine, db_url, tmp_path) -> None:
    assert run(db_url, "deploy", write_bundle(tmp_path / "b", [GROUP]), "-m", "x").exit_code == 0
    client = TestClient(create_api(engine))
    r = client.get("/records/grop")
    body = r.json()
    assert r.status_code == 404 and body["error"] == "unknown_entity" and "did you mean `group`" in body["message"]
    assert body["detail"] == [{"loc": ["path", "entity"], "msg": body["message"], "type": "unknown"}]
    zh = client.get("/records/grop", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).json()
    assert zh["error"] == "unknown_entity" and zh["message"].startswith("已部署的配置中没有这个实体")

    cli = run(db_url, "records", "get", "grop", "G1")
    assert cli.exit_code == 2 and "error: unknown_entity: no entity `grop`" in cli.output
    cli_zh = CliRunner().invoke(main, ["records", "get", "grop", "G1"],
                                env={"BANYAN_DATABASE_URL": db_url, "BANYAN_LANG": "zh"})
    assert "error: unknown_entity: 已部署的配置中没有这个实体" in cli_zh.output


def test_a_bug_is_a_generic_500_with_a_reference_and_the_traceback_only_in_the_log(engine, caplog) -> None:
    upgrade(engine)
    app = create_api(engine)

    @app.get("/boom")
    def boom() -> dict:
        return {"total": None + 1}            # a TypeError: a bug, not a person's mistake

    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="banyan.http"):
        r = client.get("/boom", headers={"Accept-Language": "zh"})
    body = r.json()
    assert r.status_code == 500 and body["error"] == "internal" and body["detail"] == []
    assert "服务器内部错误" in body["message"] and not PYTHON_TEXT.search(r.text)
    ref = re.search(r"参考号 (\w+)", body["message"]).group(1)
    logged = [rec for rec in caplog.records if ref in rec.getMessage()]
    assert logged and logged[0].exc_info[0] is TypeError       # the developer's half: in the log


def test_a_bug_on_a_page_is_a_page(web_client) -> None:
    app = web_client.app

    @app.get("/ui/boom")
    def boom() -> dict:
        raise KeyError("secret_column")

    r = web_client.get("/ui/boom")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "服务器内部错误" in r.text and "secret_column" not in r.text and not PYTHON_TEXT.search(r.text)


def test_a_bug_in_a_command_names_a_log_file_not_python(monkeypatch) -> None:
    import runtime.cli.main as cli_main

    @cli_main.main.command("explode-for-test")
    def explode() -> None:
        raise AttributeError("'NoneType' object has no attribute 'rows'")

    try:
        result = CliRunner().invoke(main, ["explode-for-test"], env={"BANYAN_LANG": "en"})
    finally:
        cli_main.main.commands.pop("explode-for-test")
    assert result.exit_code == 2 and "error: internal: Something went wrong" in result.output
    assert not PYTHON_TEXT.search(result.output)
    log = re.search(r"\((/\S+banyan-error-\S+\.log)\)", result.output).group(1)
    with open(log, encoding="utf-8") as f:
        assert "AttributeError" in f.read()


@pytest.mark.parametrize("header, lang", [("zh-CN,zh;q=0.9", "zh"), ("en-GB,en;q=0.8,zh;q=0.5", "en"),
                                          ("fr, zh;q=0.5, en;q=0.7", "en"), ("de", None), ("", None),
                                          ("en;q=0, zh", "zh"), ("zh;q=abc, en", "en")])
def test_accept_language(header: str, lang: str | None) -> None:
    assert accepted_lang(header) == lang
