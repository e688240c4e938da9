"""One bad value, every record door, the same problems (issue 11). A deal is created through the
JSON API, `banyan records create`, the record page's form, and an import of a CSV file (through
the JSON API, `banyan import` and the import page); each bad value is refused with the same field,
code and words, in zh and in en — the import names the row (here 3: a good row comes first,
under the header on line 1) and the column as written. Nothing is stored on a refusal, not even
the good row of the file.

Where the doors say it differently on purpose: the CLI prints no codes (`  field: words`); an
unknown column of a file is a problem of the header (line 1) in words about the column, with the
code the records service gives an unknown field; a page has no input for a field that does not
exist (names that are no field are not read), so "unknown field" has no page column."""
from __future__ import annotations

import html
import json
import re

import pytest
from fastapi.testclient import TestClient

from runtime.http.app import create_app as create_api

from .record_bank import (
    GOOD_ROW,
    cli,
    cli_problems,
    csrf_of,
    csv_bytes,
    field_errors,
    form_data,
    make_record_bank,
    signed_in,
)

GOOD = dict(GOOD_ROW)
FIRST = {**GOOD, "deal_no": "D0002"}          # the good row above the bad one in an imported file
BAD = {   # what a person sends → the problem's (field, code)
    "money text": ({**GOOD, "amount": "八个亿"}, ("amount", "number")),
    "missing required": ({**GOOD, "amount": ""}, ("amount", "required")),
    "over max": ({**GOOD, "tenor_days": "9999"}, ("tenor_days", "max")),
    "unknown enum": ({**GOOD, "product": "nonsense"}, ("product", "choice")),
    "pattern": ({**GOOD, "deal_no": "X1"}, ("deal_no", "pattern")),
    "unknown reference": ({**GOOD, "firm": "NOPE"}, ("firm", "reference")),
    "bad date": ({**GOOD, "signed_on": "2026-13-45"}, ("signed_on", "no_such_date")),
    "percent out of range": ({**GOOD, "share": "150"}, ("share", "max")),
}
LANGS = ("zh", "en")
LINE = {"zh": "第 {} 行", "en": "line {}"}


@pytest.fixture(scope="module")
def bank(tmp_path_factory, door_db):
    root = tmp_path_factory.mktemp("record-doors")
    mp = pytest.MonkeyPatch()
    mp.setenv("BANYAN_SECRET_FILE", str(root / "secret"))
    made = make_record_bank(root, door_db)
    made.api = TestClient(create_api(made.engine))          # the JSON API alone, the actor in a header
    made.pages = {lang: signed_in(made.app, "boss", lang) for lang in LANGS}
    yield made
    made.engine.dispose()
    mp.undo()


def sent(values: dict) -> dict:
    """What an API client or `--json` sends: a blank is a value not given."""
    return {k: v for k, v in values.items() if v != ""}


# -- the doors, each answer as (where, code, words); None where a door shows no code ------------

def api_create(bank, values, lang):
    r = bank.api.post("/records/deal", json=sent(values), headers={"Accept-Language": lang})
    assert r.status_code == 422, r.text
    return [(".".join(map(str, p["loc"])), p["type"], p["msg"]) for p in r.json()["detail"]]


def cli_create(bank, values, lang):
    r = cli(bank.url, ["records", "create", "deal", "--json", json.dumps(sent(values), ensure_ascii=False)], lang)
    assert r.exit_code == 1, r.output
    return [(where, None, words) for where, words in cli_problems(r.stderr)]


def cli_create_json(bank, values, lang):
    """`--format json`: the API's own body, codes included."""
    r = cli(bank.url, ["records", "create", "deal", "--format", "json", "--json",
                       json.dumps(sent(values), ensure_ascii=False)], lang)
    assert r.exit_code == 1, r.output
    return [(".".join(map(str, p["loc"])), p["type"], p["msg"]) for p in json.loads(r.stdout)["detail"]]


def page_create(bank, values, lang):
    client = bank.pages[lang]
    form = client.get("/ui/e/deal/new").text
    r = client.post("/ui/e/deal/new", data={"csrf_token": csrf_of(form), "_action": "save", **form_data(values)},
                    follow_redirects=False)
    assert r.status_code == 422, r.status_code
    return [(where, None, words) for where, words in field_errors(r.text).items()]


def api_import(bank, rows, lang):
    r = bank.api.post("/records/deal/import", files={"file": ("deals.csv", csv_bytes(*rows), "text/csv")},
                      headers={"Accept-Language": lang})
    assert r.status_code == 422, r.text
    return [(p["row"], p["column"], p["type"], p["msg"]) for p in r.json()["detail"]]


def cli_import(bank, rows, lang, tmp_path):
    path = tmp_path / f"deals-{lang}.csv"
    path.write_bytes(csv_bytes(*rows))
    r = cli(bank.url, ["import", "deal", str(path)], lang)
    assert r.exit_code == 1, r.output
    return [line.strip() for line in r.stderr.splitlines()[1:] if line.strip()]


_REPORT_ROW = re.compile(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td></tr>")


def page_import(bank, rows, lang):
    client = bank.pages[lang]
    form = client.get("/ui/e/deal/import").text
    r = client.post("/ui/e/deal/import", data={"csrf_token": csrf_of(form)},
                    files={"file": ("deals.csv", csv_bytes(*rows), "text/csv")}, follow_redirects=False)
    assert r.status_code == 422, r.status_code
    return [(int(line) if line else None, html.unescape(col), html.unescape(words))
            for line, col, words in _REPORT_ROW.findall(r.text)]


def same_as(truth, answer):
    """The door's answer has the truth's (where, words) and, where it shows one, its code."""
    assert [(w, m) for w, _c, m in answer] == [(w, m) for w, _c, m in truth]
    assert all(c is None or c == t[1] for (_w, c, _m), t in zip(answer, truth))


# The one known disagreement, left to dsl/values (not a door's to fix): a value that is none of an
# enum's choices is answered with the choices' codes ("loan, guarantee", in zh too) by dsl/values,
# which the API, the CLI and the pages show; the import report lists the labels the template's
# drop-down offers ("贷款、保函"). See test_the_import_lists_the_same_choices_as_the_api below.
CHOICE_LABELS = {"zh": "贷款、保函", "en": "Loan, Guarantee"}


def in_a_file(case: str, words: str, lang: str) -> str:
    return words.replace("loan, guarantee", CHOICE_LABELS[lang]) if case == "unknown enum" else words


def test_the_import_lists_the_same_choices_as_the_api(bank):
    values = BAD["unknown enum"][0]
    for lang in LANGS:
        assert api_import(bank, [FIRST, values], lang)[0][3] == api_create(bank, values, lang)[0][2]


@pytest.mark.parametrize("case", sorted(BAD))
def test_every_door_gives_the_same_problem(bank, case, tmp_path):
    values, (field, code) = BAD[case]
    for lang in LANGS:
        truth = api_create(bank, values, lang)
        assert [(w, c) for w, c, _m in truth] == [(field, code)], lang
        assert truth[0][2] and "Error" not in truth[0][2]
        same_as(truth, cli_create(bank, values, lang))
        assert cli_create_json(bank, values, lang) == truth            # codes too
        same_as(truth, page_create(bank, values, lang))
        words = in_a_file(case, truth[0][2], lang)
        assert api_import(bank, [FIRST, values], lang) == [(3, field, code, words)]
        assert cli_import(bank, [FIRST, values], lang, tmp_path) == [f"{LINE[lang].format(3)} · {field}: {words}"]
        assert page_import(bank, [FIRST, values], lang) == [(3, field, words)]
    assert bank.count() == 0


def test_the_words_follow_the_callers_language(bank):
    values = BAD["over max"][0]
    assert api_create(bank, values, "zh")[0][2] == "不能大于 3,650"
    assert page_create(bank, values, "en") == [("tenor_days", None, "Must be at most 3,650")]
    money = BAD["money text"][0]
    assert page_create(bank, money, "zh")[0][2].startswith("“八个亿”不是数字")     # never "此项必填"


def test_an_unknown_field_is_refused_at_every_door_that_can_send_one(bank, tmp_path):
    values = {**GOOD, "bogus": "1"}
    for lang in LANGS:
        truth = api_create(bank, values, lang)
        assert [(w, c) for w, c, _m in truth] == [("bogus", "unknown_field")]
        same_as(truth, cli_create(bank, values, lang))
        column = {"zh": "列“bogus”不是本表的字段", "en": 'Column "bogus" is not a field of this table'}[lang]
        assert api_import(bank, [FIRST, values], lang) == [(1, "bogus", "unknown_field", column)]
        assert cli_import(bank, [FIRST, values], lang, tmp_path) == [f"{LINE[lang].format(1)} · bogus: {column}"]
        assert page_import(bank, [FIRST, values], lang) == [(1, "bogus", column)]
    assert bank.count() == 0


def test_a_good_deal_goes_in_at_every_door(bank, tmp_path):
    """The matrix's GOOD values are good: each door stores them (and the count above means something)."""
    before = bank.count()
    assert bank.api.post("/records/deal", json={**GOOD, "deal_no": "D0101"}).status_code == 201
    assert cli(bank.url, ["records", "create", "deal", "--json", json.dumps({**GOOD, "deal_no": "D0102"},
                                                                         ensure_ascii=False)], "en").exit_code == 0
    client = bank.pages["zh"]
    form = client.get("/ui/e/deal/new").text
    r = client.post("/ui/e/deal/new", data={"csrf_token": csrf_of(form), "_action": "save",
                                            **form_data({**GOOD, "deal_no": "D0103"})}, follow_redirects=False)
    assert r.status_code == 303, r.text
    r = bank.api.post("/records/deal/import", files={"file": ("d.csv", csv_bytes({**GOOD, "deal_no": "D0104"}),
                                                              "text/csv")})
    assert r.status_code == 200 and r.json()["imported"] == 1
    assert bank.count() == before + 4
    found = bank.records().find("deal", "D0103")
    assert str(found["amount"]) in ("800000000", "800000000.00") and found["firm"] is not None
