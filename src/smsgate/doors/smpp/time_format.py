"""SMPP time strings (v3.4 §7.1.1) as the door reads and writes them: a customer's
validity_period as a lifetime, and a final_date for query_sm.

Absolute: "YYMMDDhhmmsstnnp" — local time, tenths, and the offset from UTC in quarter hours,
p '+' (ahead of UTC) or '-'. Relative: "YYMMDDhhmmss000R" — years, months, days, hours, minutes
and seconds from now.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["BadSmppTime", "format_absolute", "lifetime_seconds"]

_FORMAT = re.compile(r"(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d)(\d{2})([-+R])")
# Relative years and months have no fixed length; these are long enough for any lifetime the
# gateway keeps (it caps them at days), so the cap decides, not the approximation.
_YEAR = 365 * 86_400
_MONTH = 30 * 86_400


class BadSmppTime(ValueError):
    """Not an SMPP time string, or a date that does not exist."""


def lifetime_seconds(value: str, now: float) -> float | None:
    """Seconds from `now` until `value` (a validity_period) runs out; None when it is empty
    (the gateway's default lifetime). A time already past gives zero or less."""
    if not value:
        return None
    match = _FORMAT.fullmatch(value)
    if match is None:
        raise BadSmppTime(value)
    yy, mo, dd, hh, mi, ss, tenths, nn, p = match.groups()
    if p == "R":
        return float(
            int(yy) * _YEAR
            + int(mo) * _MONTH
            + int(dd) * 86_400
            + int(hh) * 3_600
            + int(mi) * 60
            + int(ss)
        )
    quarters = int(nn)
    if quarters > 48:
        raise BadSmppTime(value)
    try:
        local = datetime(2000 + int(yy), int(mo), int(dd), int(hh), int(mi), int(ss), tzinfo=UTC)
    except ValueError:
        raise BadSmppTime(value) from None
    offset = timedelta(minutes=15 * quarters)
    at = local - offset if p == "+" else local + offset
    return at.timestamp() + int(tenths) / 10 - now


def format_absolute(at: float) -> str:
    """Absolute SMPP time in UTC: YYMMDDhhmmss, tenths, quarter hours 00, '+'."""
    moment = datetime.fromtimestamp(at, UTC)
    return moment.strftime("%y%m%d%H%M%S") + f"{moment.microsecond // 100_000}00+"
