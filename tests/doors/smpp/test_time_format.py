"""SMPP time strings as the door reads (validity_period) and writes (final_date) them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smsgate.doors.smpp.time_format import BadSmppTime, format_absolute, lifetime_seconds

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC).timestamp()


def test_empty_is_the_default_lifetime() -> None:
    assert lifetime_seconds("", NOW) is None


def test_relative_counts_from_now() -> None:
    assert lifetime_seconds("000000013000000R", NOW) == 90 * 60
    assert lifetime_seconds("000002000000000R", NOW) == 2 * 86_400
    assert lifetime_seconds("000000000000000R", NOW) == 0


def test_absolute_in_utc_and_with_an_offset() -> None:
    assert lifetime_seconds("240501130000000+", NOW) == 3_600
    # 14:00 local, 8 quarter hours (2 h) ahead of UTC: 12:00 UTC, which is now.
    assert lifetime_seconds("240501140000008+", NOW) == 0
    # 10:30 local, 4 quarter hours behind UTC: 11:30 UTC, half an hour ago.
    assert lifetime_seconds("240501103000004-", NOW) == -1_800
    assert lifetime_seconds("240501120000500+", NOW) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "bad",
    [
        "2405011300",  # too short
        "240501130000000+0",  # too long
        "240501130000000X",  # no such direction
        "24050113000000a+",  # not digits
        "241301130000000+",  # month 13
        "240230130000000+",  # 30 February
        "240501130000049+",  # more than 12 hours off UTC
    ],
)
def test_malformed_is_refused(bad: str) -> None:
    with pytest.raises(BadSmppTime):
        lifetime_seconds(bad, NOW)


def test_format_absolute_reads_back() -> None:
    at = NOW + 3_600.4
    text = format_absolute(at)
    assert text == "240501130000400+"
    assert lifetime_seconds(text, NOW) == pytest.approx(3_600.4)
