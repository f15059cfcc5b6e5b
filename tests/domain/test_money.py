import pytest
from hypothesis import given
from hypothesis import strategies as st

from smsgate.domain.money import InvalidMoney, format_money, parse_money


def test_format_always_shows_four_decimals() -> None:
    assert format_money(81_111_700) == "8111.1700"
    assert format_money(0) == "0.0000"
    assert format_money(1) == "0.0001"
    assert format_money(10_000) == "1.0000"


def test_format_negative_amount_keeps_sign_before_whole_part() -> None:
    assert format_money(-5_000) == "-0.5000"
    assert format_money(-123_456) == "-12.3456"


def test_parse_whole_number() -> None:
    assert parse_money("12") == 120_000


def test_parse_fewer_than_four_decimals_pads_with_zeros() -> None:
    assert parse_money("12.5") == 125_000
    assert parse_money("0.01") == 100


def test_parse_exactly_four_decimals() -> None:
    assert parse_money("12.3456") == 123_456


def test_parse_negative_and_explicit_plus() -> None:
    assert parse_money("-0.5") == -5_000
    assert parse_money("+3") == 30_000


def test_parse_ignores_surrounding_whitespace() -> None:
    assert parse_money(" 7.25\n") == 72_500


@pytest.mark.parametrize(
    "text",
    ["12.34567", "12,5", "1,000", "", " ", ".5", "12.", "1e3", "abc", "--1", "1.2.3", "١٢"],
)
def test_parse_rejects_malformed_amounts(text: str) -> None:
    with pytest.raises(InvalidMoney):
        parse_money(text)


def test_parse_rejects_amount_too_large_for_a_64_bit_column() -> None:
    with pytest.raises(InvalidMoney):
        parse_money("1" * 15)
    assert parse_money("9" * 14) < 2**63


def test_invalid_money_is_a_value_error() -> None:
    assert issubclass(InvalidMoney, ValueError)


@given(st.integers(min_value=-(10**18) + 1, max_value=10**18 - 1))
def test_format_then_parse_round_trips(units: int) -> None:
    assert parse_money(format_money(units)) == units
