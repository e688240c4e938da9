"""Posted text → typed values, and back."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from dsl.values import BadValue
from forms import FileLimits, FormSpec, Submitted, UploadedFile, input_text, parse
from forms.display import display_text
from forms.values import parse_amount

from .conftest import form_of

ALL_TYPES = """
apiVersion: banyan/v1
kind: Form
metadata: {name: every_type, label: {zh: 全类型, en: Every type}}
spec:
  fields:
    - {name: s, type: string, label: {zh: 文本, en: Text}}
    - {name: t, type: text, label: {zh: 长文本, en: Long text}}
    - {name: i, type: integer, label: {zh: 整数, en: Integer}}
    - {name: n, type: number, label: {zh: 数字, en: Number}}
    - {name: m, type: money, currency: CNY, scale: 2, label: {zh: 金额, en: Amount}}
    - {name: p, type: percent, label: {zh: 比例, en: Share}}
    - {name: d, type: date, label: {zh: 日期, en: Date}}
    - {name: dt, type: datetime, label: {zh: 时间, en: Time}}
    - {name: du, type: duration, label: {zh: 时长, en: Duration}}
    - {name: b, type: bool, label: {zh: 是否, en: Flag}}
    - {name: e, type: enum, label: {zh: 枚举, en: Choice}, values: [a, b]}
    - {name: me, type: multi_enum, label: {zh: 多选, en: Choices}, values: [x, y, z]}
    - {name: r, type: ref(user), label: {zh: 用户, en: User}}
    - {name: f, type: file, label: {zh: 附件, en: File}}
"""


@pytest.fixture(scope="module")
def spec():
    return FormSpec.of_form(form_of(ALL_TYPES))


def test_amounts_in_the_units_bankers_type():
    assert parse_amount("1.5亿") == Decimal("150000000")
    assert parse_amount("3,000万") == Decimal("30000000")
    assert parse_amount("¥1,234.56元") == Decimal("1234.56")
    with pytest.raises(BadValue):
        parse_amount("一百万")
    with pytest.raises(BadValue):
        parse_amount("NaN")


def test_every_type_parses(spec):
    sub = Submitted.of([("s", " ABC "), ("t", "line\n"), ("i", "1,200"), ("n", "2.5万"), ("m", "1.5亿"), ("p", "70"),
                        ("d", "2026-03-31"), ("dt", "2026-03-31T09:30"), ("du", "2d"), ("b", ""), ("b", "true"),
                        ("e", "b"), ("me", "z"), ("me", "x"), ("r", "rm_sh_01"),
                        ("f", UploadedFile("report.pdf", "application/pdf", b"%PDF-1.4"))])
    values, problems = parse(spec, sub, "en")
    assert problems == []
    assert values["s"] == "ABC" and values["t"] == "line\n" and values["i"] == 1200
    assert values["n"] == Decimal("25000") and values["m"] == Decimal("150000000")
    assert values["p"] == Decimal("0.7")
    assert values["d"] == date(2026, 3, 31)
    assert values["dt"] == datetime(2026, 3, 31, 1, 30, tzinfo=timezone.utc)      # 09:30 in Shanghai
    assert values["du"] == timedelta(days=2) and values["b"] is True and values["e"] == "b"
    assert values["me"] == ["x", "z"]                                              # in declared order
    assert values["r"] == "rm_sh_01" and isinstance(values["f"], UploadedFile)


def test_unreadable_input_is_a_problem_per_field(spec):
    sub = Submitted.of({"i": "1.5", "m": "12.345", "p": "abc", "d": "31/03/2026", "e": "nope", "me": ["x", "w"],
                        "du": "two days"})
    values, problems = parse(spec, sub, "zh")
    by = {p.key: p.code for p in problems}
    assert by == {"i": "integer", "m": "scale", "p": "percent", "d": "date", "e": "choice", "me": "choice",
                  "du": "duration"}
    assert all(values[k] is None for k in by)


def test_empty_text_is_null_and_unchecked_box_is_false(spec):
    values, problems = parse(spec, Submitted.of({"s": "   ", "b": ""}), "zh")
    assert values["s"] is None and values["b"] is False and values["me"] is None and problems == []


def test_file_limits(spec):
    limits = FileLimits(max_bytes=10, extensions=(".pdf",))
    _, problems = parse(spec, Submitted.of({"f": UploadedFile("x.exe", "", b"1")}), "en", limits=limits)
    assert [p.code for p in problems] == ["file_type"]
    _, problems = parse(spec, Submitted.of({"f": UploadedFile("x.pdf", "", b"0" * 11)}), "en", limits=limits)
    assert [p.code for p in problems] == ["file_size"]
    values, _ = parse(spec, Submitted.of({"f.__current": "files/ab/report.pdf"}), "en")
    assert values["f"] == "files/ab/report.pdf"


@pytest.mark.parametrize("name,value", [("m", Decimal("150000000.5")), ("p", Decimal("0.125")),
                                        ("d", date(2026, 1, 2)), ("du", timedelta(hours=36)),
                                        ("dt", datetime(2026, 3, 1, 16, 0, tzinfo=timezone.utc)), ("i", 42)])
def test_input_text_round_trips(spec, name, value):
    f = spec.field(name)
    values, problems = parse(spec, Submitted.of({name: input_text(f.field, value)}), "en")
    assert problems == [] and values[name] == value


def test_display(spec):
    m, p, e = spec.field("m").field, spec.field("p").field, spec.field("e").field
    assert display_text(m, Decimal("12345678.9"), "zh") == "¥12,345,678.90"
    assert display_text(p, Decimal("0.7"), "en") == "70%"
    assert display_text(e, "a", "en") == "a"
    assert display_text(m, None, "zh") == "—"
