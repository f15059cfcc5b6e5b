"""`sms send --at WHEN`: an ISO time (with its offset, or in this machine's zone), or a time from
now such as `+10m`, `+2h`, `+1d`, `+1h30m`, read into an aware datetime.

Pure: the current time is passed in. Whether the time is too far ahead is the server's to say.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RELATIVE = re.compile(r"\+((?:\d{1,6}[smhd])+)")
_PART = re.compile(r"(\d+)([smhd])")


class SendTimeError(ValueError):
    pass


def send_time(value: str, now: datetime) -> datetime:
    """`now` must be aware; the answer is in `now`'s zone for a relative time."""
    text = value.strip()
    relative = _RELATIVE.fullmatch(text.replace(" ", ""))
    if relative is not None:
        seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(relative.group(1)))
        return now + timedelta(seconds=seconds)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise SendTimeError(
            f"{value!r} is not a time: give an ISO time (2026-12-24T09:00, "
            "2026-12-24T09:00+02:00) or a time from now (+10m, +2h, +1d, +1h30m)"
        ) from None
    if when.tzinfo is None:
        when = when.astimezone()  # the user's wall clock, as `date` shows it
    return when
