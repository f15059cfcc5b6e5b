from __future__ import annotations

import pytest

from smsgate.admin.errors import Refused
from smsgate.admin.tariff_csv import BadTariffFile, TariffRow, read_tariff_csv


def test_rows_keep_their_line_numbers_and_the_header_is_skipped() -> None:
    assert read_tariff_csv("Prefix , PRICE\n380,0.5\n\n44,1.25\n") == [
        TariffRow(2, "380", 5_000),
        TariffRow(4, "44", 12_500),
    ]


def test_a_file_without_header_starts_at_line_one() -> None:
    assert read_tariff_csv("380,0.5") == [TariffRow(1, "380", 5_000)]


def test_default_and_empty_prefixes_are_the_catch_all() -> None:
    assert read_tariff_csv("default,1\n") == [TariffRow(1, "", 10_000)]
    assert read_tariff_csv(",1\n") == [TariffRow(1, "", 10_000)]


def test_trailing_empty_cells_from_spreadsheets_are_ignored() -> None:
    assert read_tariff_csv("380,0.5,,\r\n") == [TariffRow(1, "380", 5_000)]


def test_every_bad_row_is_reported_with_its_line() -> None:
    with pytest.raises(BadTariffFile) as raised:
        read_tariff_csv("prefix,price\n380\n38x,1\n380,-1\n44,1\n44,2\n")
    assert raised.value.problems[0] == "line 2: expected 2 columns prefix,price, got 1"
    assert raised.value.problems[1].startswith("line 3: bad prefix '38x'")
    assert raised.value.problems[2].startswith("line 4: bad price '-1'")
    assert raised.value.problems[3] == "line 6: prefix 44 is already on line 5"
    assert str(raised.value) == "4 bad row(s), nothing imported"


def test_a_header_further_down_is_a_bad_row() -> None:
    with pytest.raises(BadTariffFile) as raised:
        read_tariff_csv("380,1\nprefix,price\n")
    assert [p.split(":")[0] for p in raised.value.problems] == ["line 2"]


def test_a_file_with_no_rows_is_refused() -> None:
    with pytest.raises(Refused, match="no tariff rows"):
        read_tariff_csv("\n\nprefix,price\n")
