"""The one value model (dsl/values): a person's input for a field type → the runtime value of
dsl/expr/types.py, or one error with words in zh and en."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dsl.diagnostics import Diagnostics
from dsl.errors import catalog, slots_of
from dsl.expr import compile_expression
from dsl.expr.types import TypeEnv
from dsl.ir import Label
from dsl.kinds.entity import EnumValue
from dsl.source import Span
from dsl.values import BadValue, excel_serial, read_value, value_reader


@dataclass(frozen=True)
class F:
    """The few attributes of an EntityField the reader looks at."""
    type_name: str
    values: tuple = ()
    scale: int | None = None
    ref: str | None = None
    name: str = "f"


STATUS = F("enum", (EnumValue("operating", Label("存续", "Operating")),
                    EnumValue("revoked", Label("吊销", "Revoked")),
                    EnumValue("Closed", Label("注销", "Closed"))))
TWINS = F("enum", (EnumValue("a", Label("同名", "Same")), EnumValue("b", Label("同名", "Same"))))
SH = ZoneInfo("Asia/Shanghai")

READS = [
    # money and numbers: units, separators, full width, signs, spaces
    ("money", "1.5亿", D("150000000")), ("money", "3000万", D("30000000")), ("money", "12千", D("12000")),
    ("money", "2.5万元", D("25000")), ("money", "3亿元", D("300000000")), ("money", "100元", D("100")),
    ("money", "1,234.56", D("1234.56")), ("money", "1，234", D("1234")), ("money", "１２３．５", D("123.5")),
    ("money", "-1.5亿", D("-150000000")), ("money", " 42 ", D("42")), ("money", "¥1,234.56元", D("1234.56")),
    ("money", "(1,234.00)", D("-1234.00")), ("money", "１，０００万", D("10000000")), ("money", "1 234", D("1234")),
    ("money", 1234.5, D("1234.5")), ("money", 7, D("7")), ("number", "-0.25", D("-0.25")),
    ("number", "1.5E+3", D("1500")), ("integer", "1,200", 1200), ("integer", "3万", 30000), ("integer", "－７", -7),
    ("integer", 12.0, 12),
    # percent: text and JSON numbers are points; the value is the fraction, as the literal 70%
    ("percent", "70", D("0.70")), ("percent", "70%", D("0.70")), ("percent", 70, D("0.70")),
    ("percent", "７０％", D("0.70")), ("percent", "12.5 %", D("0.125")), ("percent", "-3", D("-0.03")),
    ("percent", 0.5, D("0.005")), ("percent", D("0.7"), D("0.7")),
    # dates
    ("date", "2018-05-01", date(2018, 5, 1)), ("date", "2018/5/1", date(2018, 5, 1)),
    ("date", "2018.5.1", date(2018, 5, 1)), ("date", "2018年5月1日", date(2018, 5, 1)),
    ("date", "20180501", date(2018, 5, 1)), ("date", 20180501, date(2018, 5, 1)),
    ("date", "２０１８－０５－０１", date(2018, 5, 1)), ("date", "2018-05-01 00:00", date(2018, 5, 1)),
    ("date", datetime(2018, 5, 1), date(2018, 5, 1)),
    ("datetime", "2018-05-01T09:30:00+08:00", datetime(2018, 5, 1, 1, 30, tzinfo=timezone.utc)),
    ("datetime", "2018-05-01T01:30Z", datetime(2018, 5, 1, 1, 30, tzinfo=timezone.utc)),
    ("datetime", "2018/5/1 9:30", datetime(2018, 5, 1, 1, 30, tzinfo=timezone.utc)),        # bank time
    ("datetime", "2018年5月1日 9时30分", datetime(2018, 5, 1, 1, 30, tzinfo=timezone.utc)),
    ("datetime", datetime(2018, 5, 1, 9, 30), datetime(2018, 5, 1, 9, 30, tzinfo=timezone.utc)),  # a program's: UTC
    # booleans
    *[("bool", t, True) for t in ("是", "true", "TRUE", "yes", "Y", "1", "on", 1, True)],
    *[("bool", t, False) for t in ("否", "false", "no", "n", "0", "off", 0, False)],
    # durations as before
    ("duration", "2d", timedelta(days=2)), ("duration", "24h", timedelta(hours=24)),
    ("duration", "30m", timedelta(minutes=30)), ("duration", "15min", timedelta(minutes=15)),
    ("duration", "3 days", timedelta(days=3)), ("duration", 90, timedelta(seconds=90)),
    # text and references
    ("string", " ABC ", "ABC"), ("text", "line\n", "line\n"), ("string", 12, "12"),
    ("ref", " G001 ", "G001"), ("ref", 17, 17), ("ref", 17.0, 17),
    # blanks are null
    *[(t, b, None) for t in ("money", "percent", "date", "bool", "enum", "string") for b in (None, "", "  ", "\u3000")],
]


@pytest.mark.parametrize("type_name,raw,want", READS, ids=lambda v: repr(v))
def test_reads(type_name: str, raw: Any, want: Any) -> None:
    field = STATUS if type_name == "enum" else F(type_name)
    got = read_value(field, raw, tz=SH)
    assert got == want and type(got) is type(want)


@pytest.mark.parametrize("raw,want", [("operating", "operating"), ("OPERATING", "operating"), ("存续", "operating"),
                                      ("operating ", "operating"), ("Revoked", "revoked"), ("注销", "Closed"),
                                      ("closed", "Closed")])
def test_enums_by_code_or_label(raw: str, want: str) -> None:
    assert read_value(STATUS, raw) == want


def test_multi_enums_in_declared_order() -> None:
    many = F("multi_enum", STATUS.values)
    assert read_value(many, "吊销;存续") == ["operating", "revoked"]
    assert read_value(many, ["Closed", "operating"]) == ["operating", "Closed"]
    assert read_value(many, "存续、注销") == ["operating", "Closed"]


ERRORS = [
    (F("money"), "abc", "number", "“abc”不是数字", "“abc” is not a number"),
    (F("money"), "1,2", "number", "“1,2”不是数字", "“1,2” is not a number"),
    (F("money"), "一百万", "number", "不是数字", "is not a number"),
    (F("money"), "NaN", "number", "不是数字", "is not a number"),
    (F("money"), [1], "number", "“1”不是数字", "“1” is not a number"),
    (F("money", scale=2), "12.345", "scale", "最多 2 位", "at most 2"),
    (F("integer"), "1.5", "integer", "“1.5”不是整数", "“1.5” is not a whole number"),
    (F("integer"), "9" * 25, "too_large", "最多 19 位", "at most 19 digits"),
    (F("integer"), True, "integer", "“true”不是整数", "“true” is not a whole number"),
    (F("percent"), "abc%", "percent", "“abc%”不是百分比", "“abc%” is not a percentage"),
    (F("date"), "31/03/2026", "date", "“31/03/2026”不是日期", "“31/03/2026” is not a date"),
    (F("date"), "2026-02-30", "no_such_date", "没有“2026-02-30”这一天", "“2026-02-30” is not a day"),
    (F("date"), "2026-03-01 10:00", "date_has_time", "带有时刻", "has a time of day"),
    (F("date"), 43221, "date", "不是日期", "is not a date"),          # a serial only from an Excel cell
    (F("datetime"), "tomorrow", "datetime", "不是日期时间", "is not a date and time"),
    (F("duration"), "two days", "duration", "“two days”不是时长", "“two days” is not a duration"),
    (F("duration"), "9" * 20 + "d", "duration_too_long", "时长最多", "a duration is at most"),
    (F("bool"), "perhaps", "bool", "“perhaps”不是“是”或“否”", "“perhaps” is not yes or no"),
    (STATUS, "bankrupt", "choice", "“bankrupt”不在可选值中：存续、吊销、注销",          # labels: what a person reads
     "“bankrupt” is not one of the choices: Operating, Revoked, Closed"),
    (TWINS, "同名", "choice_ambiguous", "可以指多个选项（a, b）", "could mean several choices (a, b)"),
    (F("ref"), 1.5, "reference", "“1.5”不是记录的编号或名称", "“1.5” is not the key or the name of a record"),
    (F("ref"), True, "reference", "“true”不是记录", "“true” is not the key"),
    (F("string"), {"a": 1}, "text", "不是文本", "is not text"),
]


@pytest.mark.parametrize("field,raw,code,zh,en", ERRORS, ids=lambda v: repr(v)[:30])
def test_errors_in_both_languages(field: F, raw: Any, code: str, zh: str, en: str) -> None:
    with pytest.raises(BadValue) as exc:
        read_value(field, raw)
    err = exc.value
    assert err.code == code and err.message_key == f"values.{code}" and err.status == 422
    assert zh in err.render("zh") and en in err.render("en")
    assert str(err) == err.render("en")                       # developers and logs see the English words
    assert "Decimal" not in err.render("en") and "Error" not in err.render("en")


def test_every_values_code_has_words_with_the_same_slots() -> None:
    keys = [k for k in catalog() if k.startswith("values.")]
    assert len(keys) > 15
    for k in keys:
        assert slots_of(catalog()[k]["zh"]) == slots_of(catalog()[k]["en"]), k
    for _field, _raw, code, *_ in ERRORS:
        assert f"values.{code}" in catalog()


def test_a_long_input_is_shortened_in_the_message() -> None:
    with pytest.raises(BadValue) as exc:
        read_value(F("money"), "x" * 500)
    assert len(exc.value.render("en")) < 200


# -- Excel cells ---------------------------------------------------------------------------------

@pytest.mark.parametrize("serial,want", [(1, date(1900, 1, 1)), (59, date(1900, 2, 28)), (61, date(1900, 3, 1)),
                                         (43221, date(2018, 5, 1)), (43221.0, date(2018, 5, 1)),
                                         (2958465, date(9999, 12, 31))])
def test_excel_date_serials_with_the_1900_leap_year_bug(serial: Any, want: date) -> None:
    assert read_value(F("date"), serial, source="excel") == want


@pytest.mark.parametrize("serial", [60, 0, -1, 2958466])
def test_serials_excel_cannot_mean_are_refused(serial: int) -> None:
    with pytest.raises(BadValue) as exc:
        read_value(F("date"), serial, source="excel")
    assert exc.value.code == "excel_serial"


def test_excel_datetime_serials_and_cells_are_bank_time() -> None:
    assert excel_serial(43221.75) == datetime(2018, 5, 1, 18, 0)
    read = value_reader(F("datetime"), source="excel", tz=SH)
    assert read(43221.5) == datetime(2018, 5, 1, 4, 0, tzinfo=timezone.utc)
    assert read(datetime(2018, 5, 1, 12, 0)) == datetime(2018, 5, 1, 4, 0, tzinfo=timezone.utc)
    assert read("2018-05-01 12:00") == datetime(2018, 5, 1, 4, 0, tzinfo=timezone.utc)


def test_an_excel_percent_cell_holds_the_fraction() -> None:
    read = value_reader(F("percent"), source="excel")
    assert read(0.7, percent_cell=True) == D("0.7")          # a cell formatted as 70%
    assert read(70) == D("0.70")                               # a plain number cell: points
    assert read("70%", percent_cell=True) == D("0.70")        # text is text
    # only the import door may say so: elsewhere a number is always points
    assert read_value(F("percent"), 0.7, percent_cell=True) == D("0.007")


# -- the expression language agrees ----------------------------------------------------------------

@pytest.mark.parametrize("literal,text,type_name", [("70%", "70", "percent"), ("12.5%", "12.5%", "percent"),
                                                    ("1.5亿", "1.5亿", "money"), ("3千", "3千", "money"),
                                                    ("2.5万元", "2.5万元", "money"), ("3千元", "3千元", "money"),
                                                    ("2d", "2d", "duration"), ("2026-03-31", "2026/3/31", "date")])
def test_a_literal_and_typed_input_are_the_same_value(literal: str, text: str, type_name: str) -> None:
    diags = Diagnostics()
    compiled = compile_expression(literal, span=Span("t.yaml", 1, 1), scope={}, env=TypeEnv(), diags=diags)
    assert compiled is not None, [d.message for d in diags.sorted()]
    assert compiled({}) == read_value(F(type_name), text)


@pytest.mark.parametrize("field", [F("money"), F("money", scale=2), F("number")])
def test_a_python_decimal_is_checked_like_any_other_input(field):
    """The short path for values that are already Decimals must not take what the long one refuses."""
    read = value_reader(field)
    for bad in (D("NaN"), D("Infinity"), D("-Infinity"), D("sNaN")):
        with pytest.raises(BadValue):
            read(bad)
    assert str(read(D("5E+8"))) == "500000000"
    for huge in (D("1" * 30), D("1E+30"), "1e30", "9" * 25):       # more digits than any amount: a problem
        with pytest.raises(BadValue) as exc:
            read(huge)
        assert exc.value.code == "number_too_large"
    assert read(D("12.50")) == D("12.50") and read(D("-0.01")) == D("-0.01")
    if field.scale == 2:
        with pytest.raises(BadValue):
            read(D("1.005"))
        assert read(D("1.230")) == D("1.23")


@pytest.mark.parametrize("raw", ["  ", "\u3000", "", "\t\n"])
def test_the_short_paths_read_blank_text_as_no_value(raw):
    for field in (F("string"), F("text"), STATUS, F("ref", ref="user")):
        assert value_reader(field)(raw) is None
    assert value_reader(F("string"))("  上海  ") == "上海" and value_reader(F("text"))(" a ") == " a "
    assert value_reader(STATUS)("operating") == "operating" and value_reader(STATUS)("存续") == "operating"
