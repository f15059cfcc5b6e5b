from __future__ import annotations

import pytest

from smsgate.admin.errors import Refused
from smsgate.admin.inputs import (
    checked_amount,
    checked_currency,
    checked_login,
    checked_password,
    checked_prefix,
    checked_price,
    checked_sender_name,
    checked_smpp_password,
    shown_prefix,
)


def test_logins_are_plain_identifiers() -> None:
    assert checked_login("shop-1.ua@x_y") == "shop-1.ua@x_y"
    for bad in ("", "two words", "x" * 65, "a/b"):
        with pytest.raises(Refused, match="bad login"):
            checked_login(bad)


def test_currency_is_three_letters_upper_cased() -> None:
    assert checked_currency("uah") == "UAH"
    for bad in ("UA", "UAHX", "U1H"):
        with pytest.raises(Refused, match="bad currency"):
            checked_currency(bad)


def test_amounts_keep_their_sign_and_prices_must_not_be_negative() -> None:
    assert checked_amount("-12.5") == -125_000
    assert checked_price("0.0001") == 1
    with pytest.raises(Refused, match="not negative"):
        checked_price("-0.0001")
    with pytest.raises(Refused, match="bad price"):
        checked_price("1.5 UAH")


def test_prefixes_are_up_to_fifteen_international_digits() -> None:
    assert checked_prefix(" 380 ") == "380"
    assert checked_prefix("DEFAULT") == ""
    assert checked_prefix("") == ""
    assert checked_prefix("1" * 15) == "1" * 15
    for bad in ("+380", "1" * 16, "３８０", "38 0"):
        with pytest.raises(Refused, match="bad prefix"):
            checked_prefix(bad)
    assert shown_prefix("") == "default"
    assert shown_prefix("380") == "380"


@pytest.mark.parametrize(
    "name", ["Shop", "ElevenChars", "A", "1", "123456789012345", "my-shop.ua", "A&B", "2GIS"]
)
def test_sender_names_within_the_rules_are_kept(name: str) -> None:
    assert checked_sender_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "TwelveChars!", "TwelveLetter", "1234567890123456", "Shop ", "-Shop", "Shop!", "Ünï"],
)
def test_sender_names_outside_the_rules_are_refused(name: str) -> None:
    with pytest.raises(Refused, match="bad sender name"):
        checked_sender_name(name)


def test_smpp_passwords_are_one_to_eight_printable_ascii_characters() -> None:
    assert checked_smpp_password("12345678") == "12345678"
    with pytest.raises(Refused, match="at most 8"):
        checked_smpp_password("123456789")
    with pytest.raises(Refused, match="empty"):
        checked_smpp_password("")
    with pytest.raises(Refused, match="ASCII"):
        checked_smpp_password("pässwd")
    with pytest.raises(Refused, match="ASCII"):
        checked_smpp_password("a\tb")


def test_http_passwords_are_non_empty_and_printable() -> None:
    assert checked_password("long pass phrase ї") == "long pass phrase ї"
    with pytest.raises(Refused, match="empty"):
        checked_password("")
    with pytest.raises(Refused, match="printable"):
        checked_password("a\nb")
