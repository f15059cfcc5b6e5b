"""The values an operator types, checked before anything is stored: logins, currencies,
amounts, tariff prefixes, sender names and SMPP passwords. Each check returns the value to use
or raises Refused with a message that says what is accepted.

Pure: no store, no printing.
"""

from __future__ import annotations

import re

from smsgate.admin.errors import Refused
from smsgate.domain.money import InvalidMoney, parse_money

# Logins travel in URLs, XML bodies and SMPP's system_id.
_LOGIN = re.compile(r"[A-Za-z0-9._@-]{1,64}")
_CURRENCY = re.compile(r"[A-Z]{3}")
# E.164 numbers have at most 15 digits, so no longer prefix can ever match.
_PREFIX = re.compile(r"[0-9]{1,15}")
_NUMERIC_SENDER = re.compile(r"[0-9]{1,15}")
# An alphanumeric sender (TON 5) is at most 11 GSM-7 characters; operators accept letters,
# digits and a few separators inside the name, and every such name must contain a letter.
_ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9 ._&-]{0,9}[A-Za-z0-9])?")
SMPP_PASSWORD_MAX = 8  # SMPP 3.4 password field: 9 octets with the terminating NUL
DEFAULT_PREFIX_WORDS = ("", "default")


def checked_login(login: str) -> str:
    if not _LOGIN.fullmatch(login):
        raise Refused(f"bad login {login!r}: use 1-64 letters, digits or . _ @ - (no spaces)")
    return login


def checked_currency(currency: str) -> str:
    code = currency.upper()
    if not _CURRENCY.fullmatch(code):
        raise Refused(f"bad currency {currency!r}: a three-letter ISO 4217 code such as UAH")
    return code


def checked_amount(text: str, *, what: str = "amount") -> int:
    """A decimal amount in ten-thousandths; the sign is kept, the caller decides on it."""
    try:
        return parse_money(text)
    except InvalidMoney:
        raise Refused(
            f"bad {what} {text!r}: a decimal number with at most four decimals, e.g. 100 or 12.5"
        ) from None


def checked_price(text: str) -> int:
    price = checked_amount(text, what="price")
    if price < 0:
        raise Refused(f"bad price {text!r}: a price is not negative")
    return price


def checked_prefix(text: str) -> str:
    """A tariff prefix in international digits; "" or "default" is the catch-all."""
    prefix = text.strip()
    if prefix.lower() in DEFAULT_PREFIX_WORDS:
        return ""
    if not _PREFIX.fullmatch(prefix):
        raise Refused(
            f"bad prefix {text!r}: international digits without '+', e.g. 380 or 38050,"
            ' at most 15; "default" for the catch-all'
        )
    return prefix


def shown_prefix(prefix: str) -> str:
    return prefix or "default"


def checked_sender_name(name: str) -> str:
    if _NUMERIC_SENDER.fullmatch(name) or _ALPHANUMERIC_SENDER.fullmatch(name):
        return name
    raise Refused(
        f"bad sender name {name!r}: up to 11 letters and digits (with a letter; inner"
        " space . _ & - allowed) or up to 15 digits"
    )


def checked_smpp_password(password: str) -> str:
    if not password:
        raise Refused("an SMPP password must not be empty")
    if len(password) > SMPP_PASSWORD_MAX:
        raise Refused(
            f"an SMPP password is at most {SMPP_PASSWORD_MAX} characters"
            f" (SMPP 3.4 limit); this one has {len(password)}"
        )
    if not (password.isascii() and password.isprintable()):
        raise Refused("an SMPP password is printable ASCII")
    return password


def checked_password(password: str) -> str:
    if not password:
        raise Refused("a password must not be empty")
    if not password.isprintable():
        raise Refused("a password is printable characters")
    return password
