"""The unified social credit code (统一社会信用代码) of GB 32100-2015.

18 characters from the 31-character set 0-9 and A-Y without I, O, S, V, Z:
1 registering authority, 2 kind of organisation, 3-8 administrative area, 9-17 the
organisation code, 18 a check character. The check character makes
    sum(value(c_i) * w_i for i in 1..17) + value(c_18) ≡ 0 (mod 31)
with weights w_i = 3^(i-1) mod 31 (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28).
"""
from __future__ import annotations

from operator import mul

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {ch: i for i, ch in enumerate(CHARSET)}
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_VALUE_OF = VALUES.__getitem__


def check_character(first17: str) -> str:
    """The check character for the first 17 characters; ValueError if one is not allowed."""
    if len(first17) != 17:
        raise ValueError("the check character is computed over exactly 17 characters")
    try:
        total = sum(VALUES[ch] * w for ch, w in zip(first17, WEIGHTS))
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not allowed in a unified social credit code") from None
    return CHARSET[(31 - total % 31) % 31]


def is_uscc(code: str) -> bool:
    """True for an 18-character code of the allowed characters (upper case) whose check character is right."""
    if not isinstance(code, str) or len(code) != 18:
        return False
    try:                        # the weighted sum with the check character's own value: 0 mod 31
        total = sum(map(mul, map(_VALUE_OF, code[:17]), WEIGHTS)) + _VALUE_OF(code[17])
    except KeyError:
        return False
    return total % 31 == 0
