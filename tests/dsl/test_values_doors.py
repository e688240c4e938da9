"""The same input gets the same value and the same words at every door: the records service
(the JSON API and imports), the command line's `--set FIELD=VALUE`, and a posted form."""
from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import pytest

from dsl.compiler import compile_texts
from forms import FormSpec, Submitted, parse
from runtime.cli.records import _values
from runtime.records.validation import EntityRules

ENTITY = """
apiVersion: banyan/v1
kind: Entity
metadata: {name: thing, label: {zh: 样例, en: Thing}}
spec:
  key: code
  fields:
    - {name: code, type: string, label: {zh: 编号, en: Code}, required: true, unique: true}
    - {name: amount, type: money, currency: CNY, scale: 2, label: {zh: 金额, en: Amount}}
    - {name: share, type: percent, label: {zh: 比例, en: Share}}
    - {name: count, type: integer, label: {zh: 数量, en: Count}}
    - {name: day, type: date, label: {zh: 日期, en: Day}}
    - {name: at, type: datetime, label: {zh: 时间, en: At}}
    - {name: wait, type: duration, label: {zh: 时长, en: Wait}}
    - {name: status, type: enum, label: {zh: 状态, en: Status},
       values: [{value: operating, label: {zh: 存续, en: Operating}}, {value: revoked, label: {zh: 吊销, en: Revoked}}]}
"""

INPUTS = [
    ("amount", "1.5亿"), ("amount", "3,000万"), ("amount", "１２３．５"), ("amount", "-2千"), ("amount", "1，234.56元"),
    ("amount", "12.345"), ("amount", "abc"), ("amount", "1,2"),
    ("share", "70"), ("share", "70%"), ("share", "７０％"), ("share", "0.5"), ("share", "seventy"),
    ("count", "1,200"), ("count", "3万"), ("count", "1.5"),
    ("day", "2018-05-01"), ("day", "2018/5/1"), ("day", "2018年5月1日"), ("day", "20180501"), ("day", "2018-02-30"),
    ("day", "31/03/2026"),
    ("at", "2018-05-01 09:30"), ("at", "2018-05-01T09:30:00+08:00"), ("at", "noon"),
    ("wait", "2d"), ("wait", "30m"), ("wait", "soon"),
    ("status", "存续"), ("status", "OPERATING"), ("status", "revoked"), ("status", "bankrupt"),
]


@pytest.fixture(scope="module")
def entity():
    result = compile_texts({"thing.yaml": ENTITY})
    assert result.ok, [d.message for d in result.diagnostics.sorted()]
    return result.bundle.entities["thing"]


def _records(entity: Any, raw: dict, lang: str) -> tuple[dict, dict]:
    problems: list = []
    values = EntityRules(entity).convert(raw, problems)
    return values, {p.path[0]: (p.code, p.text(lang)) for p in problems}


def _form(entity: Any, name: str, text: str, lang: str) -> tuple[Any, tuple | None]:
    values, problems = parse(FormSpec.of_entity(entity), Submitted.of({name: text}), lang)
    found = {p.key: (p.code, p.message) for p in problems}
    return values[name], found.get(name)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name,text", INPUTS, ids=lambda v: str(v))
def test_every_door_reads_alike(entity: Any, name: str, text: str, lang: str) -> None:
    api_values, api_problems = _records(entity, json.loads(json.dumps({name: text})), lang)
    cli_values, cli_problems = _records(entity, _values((f"{name}={text}",), None), lang)
    form_value, form_problem = _form(entity, name, text, lang)
    assert api_problems == cli_problems
    assert api_problems.get(name) == form_problem
    if form_problem is None:
        assert api_values[name] == cli_values[name] == form_value is not None
        assert type(api_values[name]) is type(cli_values[name]) is type(form_value)
    else:
        assert form_value is None and name not in api_values
        assert "Decimal" not in form_problem[1] and text in form_problem[1]       # names what was refused


@pytest.mark.parametrize("number,want", [(70, D("0.70")), (12.5, D("0.125")), (0.5, D("0.005"))])
def test_a_json_number_for_a_percent_is_points_like_text(entity: Any, number: Any, want: D) -> None:
    values, problems = _records(entity, json.loads(json.dumps({"share": number})), "en")
    assert not problems and values["share"] == want
    assert _form(entity, "share", str(number), "en")[0] == want


def test_the_bugs_of_issue_11_are_gone(entity: Any) -> None:
    values, problems = _records(entity, {"amount": "1.5亿", "share": "70"}, "en")
    assert not problems and values == {"amount": D("150000000"), "share": D("0.70")}
    assert _form(entity, "share", "70", "en")[0] == D("0.70")
