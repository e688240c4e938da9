"""The browser's live messages against the server's, for the same posted data: every bad value
dsl/values refuses (`values.*` words) and every field rule (`forms.*` words), in zh and en.

The server is forms/values.py `parse` then forms/rules.py `validate(…, unread=…)`; the browser is
static/forms.js `BanyanForms.check` — the very function the page runs on every change, over the
data a submit would post — under Node. Both must give the same message at the same key; a value
only the server reads (the browser says `unsure`) is left to the server and is counted, so the
browser may not shrug off more than the few kinds it is allowed to.
"""
from __future__ import annotations

import json
import random
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from forms import FormSpec, Submitted, parse, program, validate

from .conftest import form_of
from .test_differential import FORMS_JS, NODE, RUNNER, needs_node

FORM = """
apiVersion: banyan/v1
kind: Form
metadata: {name: probe, label: {zh: 探针, en: Probe}}
spec:
  fields:
    - {name: term, type: integer, label: {zh: 期限, en: Term}, required: true, min: 1, max: 60}
    - {name: count, type: integer, label: {zh: 户数, en: Count}}
    - {name: amount, type: money, currency: CNY, scale: 2, label: {zh: 金额, en: Amount}, min: 1000万}
    - {name: fee, type: money, currency: USD, scale: 2, label: {zh: 费用, en: Fee}, max: 5000}
    - {name: ratio, type: number, label: {zh: 比率, en: Ratio}, min: 0.5}
    - {name: share, type: percent, label: {zh: 占比, en: Share}, min: 10%, max: 100%}
    - {name: signed, type: date, label: {zh: 签署日, en: Signed}, min: "2000-01-01"}
    - {name: wait, type: duration, label: {zh: 时限, en: Wait}}
    - {name: code, type: string, label: {zh: 代码, en: Code}, min_length: 2, max_length: 6, pattern: "^[A-Z0-9]+$"}
    - {name: kind, type: enum, label: {zh: 类型, en: Kind}, required: true,
       values: [{value: new, label: {zh: 新增, en: New}}, {value: renewal, label: {zh: 续做, en: Renewal}}]}
    - {name: urgent, type: bool, label: {zh: 加急, en: Urgent}}
    - {name: reason, type: text, label: {zh: 原因, en: Reason}, visible_when: "urgent", required_when: "urgent"}
    - {name: limit, type: number, scale: 2, label: {zh: 上限, en: Limit}, check: "limit >= term", check_message: {zh: 上限不能小于期限, en: The limit cannot be below the term}}
    - {name: floor, type: integer, label: {zh: 下限, en: Floor}, check: "floor + term > 0"}
    - {name: doubled, type: integer, label: {zh: 双倍, en: Doubled}, compute: "term * 2"}
    - name: rows
      type: table
      label: {zh: 分项额度, en: Sub-limits}
      min_rows: 2
      max_rows: 3
      columns:
        - {name: amount, type: money, scale: 2, label: {zh: 分项额度, en: Sub-limit}, required: true, min: 0}
        - {name: guaranteed, type: bool, label: {zh: 需担保, en: Guaranteed}}
        - {name: guarantor, type: string, label: {zh: 担保人, en: Guarantor}, visible_when: "guaranteed", required_when: "guaranteed"}
  validations:
    - rule: "sum(rows, r -> r.amount) <= coalesce(amount, 0)"
      message: {zh: 分项额度合计不能超过金额, en: The sub-limits cannot add up to more than the amount}
      fields: [rows, amount]
    - rule: "coalesce(ratio, 1) < 100"
      message: {zh: 比率应小于 100, en: The ratio must be below 100}
      fields: [ratio]
"""

NUMBERS = ["1.5亿", "3,000万", "1,234.56", "１２３．５", "-1.5亿", "3000万元", "¥12千", "￥1,200元", "RMB5万", "cny 7",
           "(1,234.00)", "（１２）", "12.345", "12.3456万", "1e3", "1E-3", "+.5", "1.", "−20", "1 000", "1'000",
           "٣٤", "１２千元", "0.001", "abc", "1,23", "1.2.3", "12,3456", "万", "¥", "50%", "1e30", "1e27",
           "123456789012345678901234567890", "1234567890123456789012345678901", "-¥5", "(5)元", "5亿元", "0e5",
           "1234567890123456789012345678.91"]
INTEGERS = ["12", "1,200", "3万", "１２", "0", "61", "-3", "1.5", "1.0", "abc", "12千", "1e2", "1e19", "9999999999999999999",
            "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "0e30", "(7)",
            "¥3", "1,2"]
PERCENTS = ["70", "70%", "51％", "１２.５", "5", "150", "abc", "1,000", "1,00", "%", "0.5", "-5", "5e1", "10 %", "七十"]
DATES = ["2018-05-01", "2018/5/1", "2018.5.1", "2018年5月1日", "2018年5月1号", "20180501", "2018-02-30", "2019-02-29",
         "2020-02-29", "0000-01-01", "abc", "２０１８－０５－０１", "2018-13-01", "18-05-01", "1999-12-31", "2018-5-1 09:30",
         "2018-05-01 00:00", "2018-05-01x"]
DURATIONS = ["2d", "24h", "30m", "15min", "1w", "90s", "3 days", "2天", "2x", "abc", "1.5h", "２ｄ", "h", "99999999999999d"]
CODES = ["AB12", "A", "ABCDEFG", "ab", "AB-1", "  AB  ", "华夏", "😀😀"]
KINDS = ["new", "renewal", " new ", "old", "新增"]


def _pick(r: random.Random, pool: list[str]) -> list[str]:
    return [r.choice(pool + ["", "  "])] if r.random() < 0.85 else []


def submission(r: random.Random) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, pool in (("term", INTEGERS), ("count", INTEGERS), ("amount", NUMBERS), ("fee", NUMBERS),
                       ("ratio", NUMBERS), ("share", PERCENTS), ("signed", DATES), ("wait", DURATIONS),
                       ("code", CODES), ("kind", KINDS), ("limit", NUMBERS), ("floor", INTEGERS),
                       ("reason", ["", "因为", "  "])):
        got = _pick(r, pool)
        if got:
            data[name] = got
    if r.random() < 0.5:
        data["urgent"] = ["", "true"] if r.random() < 0.6 else [""]
    for i in r.sample(range(6), r.randint(0, 5)):
        kind = r.random()
        if kind < 0.2:                                   # a blank row: no row to the server
            data[f"rows.{i}.amount"] = [r.choice(["", "  "])]
            data[f"rows.{i}.guaranteed"] = [""]
            continue
        data[f"rows.{i}.amount"] = [r.choice(NUMBERS[:12] + ["abc", "", "-1", "1.234"])]
        data[f"rows.{i}.guaranteed"] = ["", "true"] if r.random() < 0.5 else [""]
        if r.random() < 0.6:
            data[f"rows.{i}.guarantor"] = [r.choice(["甲公司", "", " "])]
        if kind > 0.9:
            data[f"rows.{i}._delete"] = ["true"]
    return data


def server(spec: FormSpec, data: dict, lang: str) -> dict[str, str]:
    values, unread = parse(spec, Submitted.of(data), lang)
    outcome = validate(spec, values, lang, unread=unread)
    by_key: dict[str, str] = {}
    for e in outcome.errors:
        by_key.setdefault(e.key, e.message)
    return by_key


def browser(prog: dict, datas: list[dict], tmp: Path) -> list[dict]:
    runner = tmp / "check.js"
    runner.write_text(RUNNER.replace("window.BanyanForms.evaluateJSON(c[0], c[1])",
                                     "window.BanyanForms.check(c[0], c[1])"), encoding="utf-8")
    done = subprocess.run([NODE, str(runner), str(FORMS_JS)], input=json.dumps([[prog, d] for d in datas]),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    crashed = [o["$crash"] for o in out if "$crash" in o]
    assert not crashed, crashed[0]
    return out


@pytest.fixture(scope="module")
def spec() -> FormSpec:
    return FormSpec.of_form(form_of(FORM))


def compare(spec: FormSpec, datas: list[dict], lang: str, tmp: Path) -> tuple[Counter, Counter]:
    """Asserts equal messages; returns the message codes met and the kinds the browser left alone."""
    prog = json.loads(json.dumps(program(spec, lang)))
    got = browser(prog, datas, tmp)
    codes: Counter = Counter()
    unsure: Counter = Counter()
    for data, js in zip(datas, got):
        want = server(spec, data, lang)
        values, unread = parse(spec, Submitted.of(data), lang)
        outcome = validate(spec, values, lang, unread=unread)
        codes.update(e.code for e in outcome.errors)
        left = set(js["unsure"])
        unsure.update(k.split(".")[-1] for k in left)
        mine = {k: v for k, v in js["errors"].items() if k not in left}
        theirs = {k: v for k, v in want.items() if k not in left}
        assert mine == theirs, f"posted {data!r}\nserver  {theirs!r}\nbrowser {mine!r}"
    return codes, unsure


@needs_node
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_browser_says_what_the_server_says(spec, lang, tmp_path):
    r = random.Random(20260611 + len(lang))
    datas = [submission(r) for _ in range(1500)]
    codes, unsure = compare(spec, datas, lang, tmp_path)
    # the run meets every message the browser can give, so a difference in any of them fails it
    expected = {"number", "integer", "too_large", "scale", "percent", "date", "no_such_date", "duration",
                "required", "min", "max", "min_length", "max_length", "pattern", "check", "evaluation",
                "validation", "min_rows", "max_rows"}
    assert expected <= set(codes), expected - set(codes)
    # what the browser leaves to the server: labels typed for codes, a date with a time, an amount
    # beyond what the server's reader holds, a duration longer than it holds — nothing else
    assert set(unsure) <= {"kind", "signed", "wait", "amount", "fee", "ratio", "limit"}, unsure


PAIRS = [  # (posted, the key, the server's words in zh) — read by people, and pinned
    ({"term": ["abc"]}, "term", "“abc”不是整数：可写 1200、1,200 或 3万"),
    ({"term": ["3万"]}, "term", "不能大于 60"),
    ({"share": ["51%"], "term": ["12"]}, "share", None),
    ({"share": ["5"], "term": ["12"]}, "share", "不能小于 10%"),
    ({"amount": ["12.345"], "term": ["12"]}, "amount", "“12.345”的小数位太多，最多 2 位"),
    ({"amount": ["999万"], "term": ["12"]}, "amount", "不能小于 ¥10,000,000.00"),
    ({"fee": ["5001"], "term": ["12"]}, "fee", "不能大于 $5,000.00"),
    ({"signed": ["2019-02-29"], "term": ["12"]}, "signed", "日历上没有“2019-02-29”这一天"),
    ({"rows.0.amount": ["100"], "rows.0.guaranteed": [""], "term": ["12"]}, "rows", "至少需要 2 行"),
    ({"rows.0.amount": [""], "rows.0.guaranteed": [""], "term": ["12"]}, "rows", None),   # a blank row is no row
]


@needs_node
@pytest.mark.parametrize("data, key, words", PAIRS, ids=[f"{k}:{w}" for _, k, w in PAIRS])
def test_words_on_both_sides(spec, data, key, words, tmp_path):
    want = server(spec, data, "zh")
    assert want.get(key) == words, want
    [js] = browser(json.loads(json.dumps(program(spec, "zh"))), [data], tmp_path)
    assert js["errors"].get(key) == words, js
