"""dsl/values write_value: what a door sends out reads back through read_value as the same value;
a percent goes out as its points ("70"), never the stored fraction ("0.70", which reads as 0.7%)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from dsl.values import percent_fields, percent_points, read_value, write_record, write_value


class Field:
    def __init__(self, type_name: str, name: str = "f"):
        self.type_name, self.name = type_name, name


PERCENT = Field("percent")


@pytest.mark.parametrize("value, json, text", [
    (D("0.70"), "70", "70%"),
    (D("0.7000"), "70", "70%"),            # a PostgreSQL NUMERIC(…, 4) column's scale: no trailing zeros
    (D("0.125"), "12.5", "12.5%"),
    (D("0.12345"), "12.345", "12.345%"),
    (D("1"), "100", "100%"),
    (D("1.5"), "150", "150%"),
    (D("12"), "1200", "1200%"),            # not "1.2E+3"
    (D("0.00001"), "0.001", "0.001%"),     # not "1E-3"
    (D("-0.05"), "-5", "-5%"),
    (D("0"), "0", "0%"),
    (D("-0.00"), "0", "0%"),               # no "-0"
    (0.7, "70", "70%"),                    # a float by its shortest text, not 70.00000000000001
    (1, "100", "100%"),
])
def test_a_percent_is_written_as_its_points(value, json, text):
    assert write_value(PERCENT, value) == json
    assert write_value("percent", value, target="text") == text
    same = D(repr(value)) if isinstance(value, float) else value
    assert read_value(PERCENT, json) == same           # and reads back as the same value
    assert read_value(PERCENT, text, source="text") == same


@pytest.mark.parametrize("type_name, value", [
    ("money", D("12.30")), ("number", D("0.70")), ("integer", 70), ("date", date(2026, 3, 2)),
    ("string", "70%"), ("bool", True), ("enum", "large"), ("ref", "G1"),
])
def test_every_other_value_is_left_as_it_is(type_name, value):
    assert write_value(Field(type_name), value) is value
    assert write_value(type_name, value, target="text") is value


@pytest.mark.parametrize("value", [None, "70%", True, D("NaN"), ["x"]])
def test_a_blank_or_non_number_percent_is_left_as_it_is(value):
    assert write_value(PERCENT, value) is value


def test_an_unknown_target_is_a_programming_error():
    with pytest.raises(ValueError):
        write_value(PERCENT, D("0.7"), target="xml")


def test_percent_points_and_whole_records():
    assert percent_points(D("0.7")) == "70"
    fields = [Field("string", "code"), Field("percent", "share"), Field("money", "amount"), Field("percent", "gone")]
    percents = percent_fields(fields)
    assert percents == ("share", "gone")
    record = {"code": "C1", "share": D("0.70"), "amount": D("5.00")}
    out = write_record(percents, record)
    assert out == {"code": "C1", "share": "70", "amount": D("5.00")} and "gone" not in out
    assert record["share"] == D("0.70")                  # a copy: the record is not changed
    assert write_record(percents, record, target="text")["share"] == "70%"
    assert write_record((), record) is record
