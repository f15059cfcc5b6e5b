"""`--at` values: relative times from now, ISO times with or without an offset, and a clear
error for anything else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from smsgate.client.send_time import SendTimeError, send_time

NOW = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "later"),
    [
        ("+10m", timedelta(minutes=10)),
        ("+45s", timedelta(seconds=45)),
        ("+2h", timedelta(hours=2)),
        ("+1d", timedelta(days=1)),
        ("+1h30m", timedelta(hours=1, minutes=30)),
        (" +1h 30m ", timedelta(hours=1, minutes=30)),
    ],
)
def test_a_time_from_now(value: str, later: timedelta) -> None:
    assert send_time(value, NOW) == NOW + later


def test_an_iso_time_keeps_its_offset() -> None:
    kyiv = timezone(timedelta(hours=2))
    assert send_time("2026-12-24T09:00+02:00", NOW) == datetime(2026, 12, 24, 9, tzinfo=kyiv)
    assert send_time("2026-12-24T07:00:00Z", NOW) == datetime(2026, 12, 24, 7, tzinfo=UTC)


def test_an_iso_time_without_offset_is_this_machines_wall_clock() -> None:
    when = send_time("2026-12-24T09:00", NOW)
    assert when.tzinfo is not None
    assert when.replace(tzinfo=None) == datetime(2026, 12, 24, 9)


@pytest.mark.parametrize("value", ["tomorrow", "+10", "+10y", "10m", "", "+m"])
def test_anything_else_is_refused_with_the_forms_it_takes(value: str) -> None:
    with pytest.raises(SendTimeError, match=r"\+10m"):
        send_time(value, NOW)
