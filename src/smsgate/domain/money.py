"""Money as integers: ten-thousandths of the currency unit (1.0000 == 10_000), and its text form.

Floats never carry money here; the doors print and read amounts only through these two functions.
"""

from __future__ import annotations

import re

SCALE = 10_000
_DECIMALS = 4
# 14 integer digits keep every parsed amount inside a signed 64-bit column.
_MONEY = re.compile(r"([+-]?)([0-9]{1,14})(?:\.([0-9]{1,4}))?")


class InvalidMoney(ValueError):
    """Text that is not an amount with at most four decimals (no commas, no exponent)."""


def format_money(units: int) -> str:
    """`81111700` -> `"8111.1700"`; always four decimals, a leading '-' when negative."""
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(units), SCALE)
    return f"{sign}{whole}.{fraction:0{_DECIMALS}d}"


def parse_money(text: str) -> int:
    """`"12"`, `"12.5"`, `"-0.0001"` -> units. Rejects more than four decimals, commas, blanks."""
    match = _MONEY.fullmatch(text.strip())
    if match is None:
        raise InvalidMoney(f"not an amount: {text!r}")
    sign, whole, fraction = match.groups()
    units = int(whole) * SCALE + int((fraction or "").ljust(_DECIMALS, "0"))
    return -units if sign == "-" else units
