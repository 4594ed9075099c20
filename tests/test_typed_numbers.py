"""Numbers as people type them: each accepted form, and the forms that must be refused."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cbec.io.typed_numbers import PLAIN_NUMBER, parse_typed_number


@pytest.mark.parametrize(
    "text,unit,value,approx",
    [
        ("8人", "persons", 8, False),
        ("1,439", "persons", 1439, False),
        ("１０", "persons", 10, False),
        ("2年", "years", 2, False),
        ("22%", "percent", 22, False),
        ("２２％", "percent", 22, False),
        ("约6", None, 6, True),
        ("约46天", "days", 46, True),
        ("46天左右", "days", 46, True),
        ("38319万", "cny_million", 383.19, False),
        ("38319万元", "cny_million", 383.19, False),
        ("1.2亿", "cny_million", 120, False),
        ("5000000元", "cny_million", 5, False),
        ("1.2万人", "persons", 12000, False),
        ("-5%", "percent", -5, False),
        ("12,345.6", "cny_million", 12345.6, False),
    ],
)
def test_accepted_forms(text, unit, value, approx):
    p = parse_typed_number(text, unit)
    assert p is not None and p.value == pytest.approx(value) and p.approximate is approx and p.repaired


@pytest.mark.parametrize(
    "text,unit",
    [
        ("38319万", None),  # a magnitude word the field's unit does not allow: never 38319
        ("38319万", "days"),
        ("5天", "years"),  # another unit's suffix
        ("1,4", "persons"),  # decimal comma or thousands separator? ambiguous
        ("5-10", "days"),
        ("5~10", "days"),
        ("3到5", "years"),  # ranges
        ("abc", None),
        ("", None),
        ("人", "persons"),
        ("1.2.3", None),
    ],
)
def test_refused_forms(text, unit):
    assert parse_typed_number(text, unit) is None


def test_plain_numbers_are_not_repairs():
    p = parse_typed_number("42", "persons")
    assert p.value == 42 and not p.repaired and not p.approximate


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda v: round(v, 3)))
def test_plain_decimal_roundtrip(v):
    assert parse_typed_number(repr(v), "percent").value == pytest.approx(v)


@given(st.from_regex(PLAIN_NUMBER, fullmatch=True))
def test_plain_numbers_are_read_directly_as_the_parser_reads_them(text):
    # the validator reads PLAIN_NUMBER cells with pandas and sends only the rest to the parser
    p = parse_typed_number(text, "persons")
    assert p is not None and not p.repaired and p.value == float(text)


def test_full_width_digits_are_not_plain():
    assert not PLAIN_NUMBER.match("１０") and parse_typed_number("１０").repaired
