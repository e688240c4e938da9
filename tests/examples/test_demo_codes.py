"""Check digits of credit codes, organisation codes and identity numbers, against published codes."""
from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from examples.demo_bank.codes import (
    USCC_CHARSET,
    is_valid_resident_id,
    is_valid_uscc,
    make_resident_id,
    make_uscc,
    org_code_check_char,
    uscc_check_char,
)

# Real, published unified social credit codes (company, credit code).
PUBLISHED = [
    ("华为技术有限公司", "914403001922038216"),
    ("深圳市腾讯计算机系统有限公司", "91440300708461136T"),
    ("中国工商银行股份有限公司", "91100000100003962T"),
    ("阿里巴巴（中国）有限公司", "91330100716105852F"),
]


@pytest.mark.parametrize(("name", "code"), PUBLISHED)
def test_published_credit_codes_are_valid(name, code):
    assert uscc_check_char(code[:17]) == code[17]
    assert org_code_check_char(code[8:16]) == code[16]
    assert is_valid_uscc(code)


@pytest.mark.parametrize(("body", "check"), [("19220382", "1"), ("70846113", "6"), ("10000396", "2"),
                                             ("71610585", "2")])
def test_organisation_code_check_digit(body, check):
    assert org_code_check_char(body) == check


def test_organisation_check_can_be_x_or_zero():
    bodies = ["".join(random.Random(i).choice("0123456789") for _ in range(8)) for i in range(400)]
    checks = {org_code_check_char(b) for b in bodies}
    assert "X" in checks and "0" in checks


def test_a_code_with_a_wrong_organisation_check_digit_is_rejected():
    # The final character of this code is right, the organisation code's (character 17) is not.
    code = "91310000MA1FL8XQ6G"
    assert uscc_check_char(code[:17]) == code[17]
    assert not is_valid_uscc(code)


@pytest.mark.parametrize("code", ["91440300708461136", "91440300708461136TT", "91440300708461136I",
                                  "914403007084611360", "91AB0300708461136T"])
def test_malformed_codes_are_rejected(code):
    assert not is_valid_uscc(code)


@given(position=st.integers(0, 17), replacement=st.sampled_from(USCC_CHARSET))
def test_every_single_character_change_is_detected(position, replacement):
    code = PUBLISHED[0][1]
    if code[position] == replacement:
        return
    changed = code[:position] + replacement + code[position + 1:]
    assert not is_valid_uscc(changed)


@given(seed=st.integers(0, 10**6), new_style=st.booleans(),
       division=st.sampled_from(["310000", "110108", "440300", "510107"]))
def test_generated_codes_are_valid(seed, new_style, division):
    code = make_uscc(random.Random(seed), division, new_style)
    assert is_valid_uscc(code)
    assert code[2:8] == division
    assert code[8:10] == "MA" if new_style else code[8:16].isdigit()


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014"])
def test_published_resident_ids_are_valid(number):
    assert is_valid_resident_id(number)


def test_generated_resident_ids():
    number = make_resident_id("310115", "19800214", 17, male=True)
    assert is_valid_resident_id(number) and int(number[16]) % 2 == 1
    female = make_resident_id("310115", "19800214", 17, male=False)
    assert is_valid_resident_id(female) and int(female[16]) % 2 == 0
    assert not is_valid_resident_id(number[:17] + ("0" if number[17] != "0" else "1"))
