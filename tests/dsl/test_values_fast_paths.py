"""The shortcuts for plain ASCII cells read as the full path does (an import reads every cell
through them): any text, including control characters, spaces and full-width forms."""
import hypothesis
import hypothesis.strategies as st
import pytest
from hypothesis import given

from dsl.values import dates, numbers


def slow_ascii_text(text: str) -> str:
    return numbers._SPACES.sub("", text.translate(numbers._WIDE))


def slow_wide(text: str) -> str:
    return " ".join(text.translate(dates._SEPARATORS).split()).translate(dates._DIGITS)


TEXT = st.one_of(st.text(), st.text(alphabet=st.characters(max_codepoint=127)),
                 st.text(alphabet="0123456789,.-+()'% \t\n\x0b\x1c\u00a0\u3000０１．，－（）"))


@given(TEXT)
def test_ascii_text_shortcut_reads_as_the_full_path(text):
    assert numbers.ascii_text(text) == slow_ascii_text(text)


@given(TEXT)
def test_date_text_shortcut_reads_as_the_full_path(text):
    assert dates._wide(text) == slow_wide(text)


@given(st.from_regex(r"\d{25,40}(\.\d{0,12})?", fullmatch=True))
def test_a_number_of_more_than_max_digits_is_still_refused_for_them(text):
    digits = sum(c.isdigit() for c in text)
    hypothesis.assume(digits > numbers.MAX_DIGITS)
    with pytest.raises(numbers.BadValue) as refused:
        numbers.read_decimal(text)
    assert refused.value.code == "number"
