"""A door refusing for a missing permission says the action in the caller's words — "You may not
import records", "您没有导入记录的权限" — never the permission's code or the user name."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from dsl.errors import catalog
from runtime.auth.permissions import MissingPermission, action_words
from runtime.auth.users import PERMISSIONS, UserStore

from .record_bank import GOOD_ROW, csv_bytes, make_record_bank


@pytest.fixture(scope="module")
def bank(tmp_path_factory, door_db):
    root = tmp_path_factory.mktemp("permission-words")
    mp = pytest.MonkeyPatch()
    mp.setenv("BANYAN_SECRET_FILE", str(root / "secret"))
    made = make_record_bank(root, door_db)
    yield made
    made.engine.dispose()
    mp.undo()


def test_every_permission_has_its_action_in_both_languages():
    for permission in PERMISSIONS:
        assert f"auth.can.{permission}" in catalog()
        for lang in ("zh", "en"):
            assert permission not in action_words(permission, lang)


@pytest.mark.parametrize("lang, words", [("en", "You may not import records"), ("zh", "您没有导入记录的权限")])
def test_the_api_says_the_missing_permission_in_words(bank, lang, words):
    token = UserStore(bank.engine).create_token("clerk_one", "doors")       # may write records, not import them
    r = TestClient(bank.app).post("/records/deal/import", files={"file": ("d.csv", csv_bytes(GOOD_ROW), "text/csv")},
                                  headers={"Authorization": f"Bearer {token}", "Accept-Language": lang})
    assert r.status_code == 403
    body = r.json()
    assert body["error"] == "forbidden" and body["message"] == words
    assert "records.import" not in r.text and "records import" not in r.text and "clerk_one" not in r.text
    assert bank.count() == 0


def test_the_refusal_renders_each_permission():
    assert MissingPermission("records.delete").render("zh") == "您没有删除记录的权限"
    assert MissingPermission("deployments.read").render("en") == "You may not see the deployments"
    assert MissingPermission("records.write").to_dict("zh")["message"] == "您没有新建或修改记录的权限"


@pytest.mark.parametrize("lang, words", [("en", "You may not import records"), ("zh", "您没有导入记录的权限")])
def test_the_cli_says_the_missing_permission_in_the_same_words(bank, tmp_path, lang, words):
    from .record_bank import cli
    src = tmp_path / "d.csv"
    src.write_bytes(csv_bytes(GOOD_ROW))
    r = cli(bank.url, ["import", "deal", str(src), "--as", "clerk_one"], lang)
    assert r.exit_code != 0 and words in r.output
    assert "records import" not in r.output and "records.import" not in r.output and "Traceback" not in r.output
    assert bank.count() == 0
