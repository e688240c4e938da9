"""Chinese identification codes with their check digits.

- Unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters =
  registration authority (1) + entity type (1) + administrative division (6) +
  organisation code (9, itself GB 11714 with a check character) + check character (1).
- Organisation code (组织机构代码), GB 11714-1997: 8 body characters + 1 check character.
- Resident identity number (居民身份证号码), GB 11643-1999: 17 digits + check (0-9 or X).
"""
from __future__ import annotations

import random

USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUE = {c: i for i, c in enumerate(USCC_CHARSET)}

ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RESIDENT_CHECK = "10X98765432"


def uscc_check_char(first17: str) -> str:
    """The 18th character of a credit code, from its first 17 (GB 32100-2015)."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    check = 31 - total % 31
    return USCC_CHARSET[0 if check == 31 else check]


def org_code_check_char(body8: str) -> str:
    """The 9th character of an organisation code, from its first 8 (GB 11714-1997).

    Digits count as their value, letters A..Z as 10..35.
    """
    total = sum(_org_value(c) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


def _org_value(char: str) -> int:
    if char.isdigit():
        return int(char)
    return ord(char) - ord("A") + 10


def is_valid_uscc(code: str) -> bool:
    """Both check characters right, and every character from the code's charset."""
    if len(code) != 18 or any(c not in _USCC_VALUE for c in code):
        return False
    if not code[2:8].isdigit():
        return False
    return org_code_check_char(code[8:16]) == code[16] and uscc_check_char(code[:17]) == code[17]


def make_uscc(rng: random.Random, division: str, new_style: bool) -> str:
    """A valid enterprise credit code (authority 9 = market regulator, type 1 = enterprise).

    Old-style organisation codes are 8 digits; codes issued since 2015 start `MA` and use
    letters from the credit-code charset.
    """
    if new_style:
        body = "MA" + "".join(rng.choice(USCC_CHARSET) for _ in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
        if body[0] == "0":
            body = str(rng.randint(1, 9)) + body[1:]
    first17 = "91" + division + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


def resident_check_char(first17: str) -> str:
    """The last character of a resident identity number (GB 11643-1999)."""
    total = sum(int(c) * w for c, w in zip(first17, RESIDENT_WEIGHTS, strict=True))
    return RESIDENT_CHECK[total % 11]


def make_resident_id(division: str, birth_yyyymmdd: str, sequence: int, male: bool) -> str:
    """A valid 18-character identity number; the sequence's last digit is odd for men."""
    seq = sequence % 500 * 2 + (1 if male else 0)
    first17 = f"{division}{birth_yyyymmdd}{seq:03d}"
    return first17 + resident_check_char(first17)


def is_valid_resident_id(number: str) -> bool:
    if len(number) != 18 or not number[:17].isdigit():
        return False
    return resident_check_char(number[:17]) == number[17]
