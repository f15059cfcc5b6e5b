"""Which account an inbound SMS belongs to: numbers (long numbers, short codes) belong to
accounts; on a shared number the message's first word picks the account by keyword
(case-insensitive, any script), and a number's route without keyword takes the rest.

Pure rules: a table built from configured routes (conflicts refused when it is built) and a
lookup that returns Routed or Unroutable. Unroutable messages are kept by the caller, never
dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

from smsgate.domain.keywords import keyword, words
from smsgate.immutable import record

MAX_NUMBER_DIGITS = 15  # E.164


class RouteConflict(ValueError):
    """Two routes claim the same number (and keyword), or a number is not a number."""


@record
class NumberRoute:
    number: str  # as configured; compared by its digits
    account: int
    keyword: str | None = None


@record
class Routed:
    account: int
    number: str  # digits
    keyword: str | None  # folded, when the first word chose the account


@record
class Unroutable:
    reason: str


def number_key(number: str) -> str:
    """The digits a number is compared by: "+380 (50) 123-45-67" is "380501234567"."""
    digits = "".join(ch for ch in number if ch not in " +-().\t")
    if not digits.isdigit() or not digits.isascii() or len(digits) > MAX_NUMBER_DIGITS:
        raise ValueError(f"{number!r} is not a phone number or short code")
    return digits


class InboundRoutes:
    """The routing table: per number, an optional default account and keyword accounts."""

    def __init__(self, routes: Iterable[NumberRoute] = ()) -> None:
        self._default: dict[str, int] = {}
        self._by_keyword: dict[str, dict[str, int]] = {}
        for route in routes:
            try:
                digits = number_key(route.number)
            except ValueError as exc:
                raise RouteConflict(str(exc)) from None
            if route.keyword is None:
                owner = self._default.setdefault(digits, route.account)
                if owner != route.account:
                    raise RouteConflict(f"number {digits} already belongs to account {owner}")
                continue
            try:
                word = keyword(route.keyword)
            except ValueError as exc:
                raise RouteConflict(str(exc)) from None
            owner = self._by_keyword.setdefault(digits, {}).setdefault(word, route.account)
            if owner != route.account:
                raise RouteConflict(
                    f"keyword {word!r} on number {digits} already belongs to account {owner}"
                )

    def route(self, destination: str, text: str) -> Routed | Unroutable:
        try:
            digits = number_key(destination)
        except ValueError:
            return Unroutable(f"destination {destination!r} is not a number")
        keywords = self._by_keyword.get(digits)
        if keywords:
            found = words(text)
            if found and found[0] in keywords:
                return Routed(keywords[found[0]], digits, found[0])
        default = self._default.get(digits)
        if default is not None:
            return Routed(default, digits, None)
        if keywords:
            return Unroutable(f"no keyword of number {digits} starts the message")
        return Unroutable(f"number {digits} belongs to no account")
