"""The flow start page is a door like the others (issue 11): for every bad start form of
test_same_problems.py that a page can send, the page answers 422 and shows, beside each field,
the same problems — path and words, in zh and in en — as the JSON API; nothing is started.
(A page cannot send a key that is no field of the form, or a sub-table as one text: its inputs
are the form's fields, and other names in a post are not read.)"""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from runtime.flows.service import FlowService
from runtime.web.app import create_app

from .flow_bank import make_flow_bank
from .record_bank import csrf_of, field_errors, signed_in
from .test_same_problems import BAD, GOOD

PAGE_CASES = sorted(set(BAD) - {"unknown key", "table as text"})
LANGS = ("zh", "en")


@pytest.fixture(scope="module")
def bank(tmp_path_factory, door_db):
    root = tmp_path_factory.mktemp("start-page")
    mp = pytest.MonkeyPatch()
    mp.setenv("BANYAN_SECRET_FILE", str(root / "secret"))
    url, engine = make_flow_bank(root, door_db)
    app = create_app(engine)
    yield app, engine, {lang: signed_in(app, "rm", lang) for lang in LANGS}
    engine.dispose()
    mp.undo()


def posted(form: dict) -> dict[str, str]:
    """A start form as the page posts it: one input per field, sub-table cells as `lines.0.amount`."""
    out = {}
    for name, value in form.items():
        if isinstance(value, list):
            for i, row in enumerate(value):
                out.update({f"{name}.{i}.{col}": str(v) for col, v in row.items()})
        else:
            out[name] = str(value)
    return out


def api_problems(app, form: dict, lang: str) -> dict[str, str]:
    """{path as the page names its error: the words} of the JSON API's answer to rm."""
    r = TestClient(app).post("/flows/loan/instances", json={"form": form},
                             headers={"X-Banyan-Actor": "rm", "Accept-Language": lang})
    assert r.status_code == 422, r.text
    return {"-".join(map(str, p["loc"])): p["msg"] for p in r.json()["detail"]}


def page_problems(client: TestClient, form: dict) -> tuple[int, dict[str, str]]:
    page = client.get("/ui/start/loan").text
    data = {"csrf_token": csrf_of(page), "_request": "", "subject": "", "_action": "save", **posted(form)}
    r = client.post("/ui/start/loan", data=data, follow_redirects=False)
    return r.status_code, field_errors(r.text)


@pytest.fixture(scope="module")
def api_app(bank):
    """The JSON API alone (the actor in a header), on the same database."""
    from runtime.http.app import create_app as create_api
    return create_api(bank[1])


@pytest.mark.parametrize("case", PAGE_CASES)
def test_the_start_page_shows_the_apis_problems_beside_the_fields(bank, api_app, case):
    app, engine, clients = bank
    form, expected = BAD[case]
    for lang in LANGS:
        status, shown = page_problems(clients[lang], form)
        assert status == 422, case
        api = api_problems(api_app, form, lang)
        assert shown == api, (case, lang)
        assert ["-".join(map(str, path)) for path, _code in expected] == list(shown)
    assert FlowService(engine).started("rm", limit=0)["total"] == 0


def test_the_words_are_the_callers_language(bank):
    _app, _engine, clients = bank
    form = BAD["money text"][0]
    assert page_problems(clients["zh"], form)[1]["amount"].startswith("“八个亿”不是数字")
    assert page_problems(clients["en"], form)[1]["amount"].startswith("“八个亿” is not a number")


def test_a_good_start_from_the_page_is_started(bank):
    app, engine, clients = bank
    client = clients["en"]
    page = client.get("/ui/start/loan").text
    r = client.post("/ui/start/loan", data={"csrf_token": csrf_of(page), "_request": "good-1", "subject": "",
                                            "_action": "save", **posted(GOOD)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/flow-instances/")
    started = FlowService(engine).started("rm", limit=5)
    assert started["total"] == 1
