"""The country of a number by its calling code."""

from __future__ import annotations

from smsgate.domain.countries import UNKNOWN, country_of


def test_a_number_is_of_the_country_its_calling_code_names() -> None:
    assert country_of("380501234567") == "UA"
    assert country_of("447700900123") == "GB"
    assert country_of("380") == "UA"


def test_shared_codes_name_their_main_country() -> None:
    assert country_of("12025550123") == "US"
    assert country_of("79161234567") == "RU"


def test_no_country_for_unknown_or_non_geographic_codes() -> None:
    assert country_of("80012345678") == UNKNOWN
    assert country_of("") == UNKNOWN
    assert country_of("x12") == UNKNOWN
