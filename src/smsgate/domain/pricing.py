"""The price of one SMS part to a number: longest matching tariff prefix wins.

Lookup order: the account's own tariffs first (longest prefix among them; "" is the account's own
default), then the default plan's (longest prefix; "" is the plan's catch-all). An account tariff
therefore beats the default plan even when the plan has a longer prefix. None means no tariff: the
caller rejects the recipient ("No tariff for destination"). No storage here.
"""

from __future__ import annotations

from collections.abc import Sequence


def _validated(tariffs: Sequence[tuple[str, int]]) -> dict[str, int]:
    table: dict[str, int] = {}
    for prefix, price in tariffs:
        if prefix and not prefix.isdigit():
            raise ValueError(f"a tariff prefix is digits, not {prefix!r}")
        if prefix in table and table[prefix] != price:
            raise ValueError(f"two prices for prefix {prefix!r}")
        table[prefix] = price
    return table


class TariffTable:
    """One plan's tariffs, indexed once: a dict by prefix probed from the longest length down."""

    __slots__ = ("_by_prefix", "_lengths")

    def __init__(self, tariffs: Sequence[tuple[str, int]]) -> None:
        self._by_prefix = _validated(tariffs)
        self._lengths = sorted({len(p) for p in self._by_prefix}, reverse=True)

    def __len__(self) -> int:
        return len(self._by_prefix)

    def lookup(self, phone: str) -> int | None:
        by_prefix = self._by_prefix
        size = len(phone)
        for length in self._lengths:
            if length <= size:
                price = by_prefix.get(phone[:length])
                if price is not None:
                    return price
        return None


class AccountPricing:
    """An account's own table in front of the default plan's, per the module rule."""

    __slots__ = ("_default", "_own")

    def __init__(
        self, tariffs: Sequence[tuple[str, int]], account_tariffs: Sequence[tuple[str, int]] = ()
    ) -> None:
        self._default = TariffTable(tariffs)
        self._own = TariffTable(account_tariffs)

    def price(self, phone: str) -> int | None:
        price = self._own.lookup(phone)
        return price if price is not None else self._default.lookup(phone)


def _longest_match(phone: str, tariffs: Sequence[tuple[str, int]]) -> int | None:
    best_length = -1
    best: int | None = None
    for prefix, price in tariffs:
        if len(prefix) > best_length and phone.startswith(prefix):
            best_length, best = len(prefix), price
    return best


def price_for(
    phone: str,
    tariffs: Sequence[tuple[str, int]],
    account_tariffs: Sequence[tuple[str, int]] = (),
) -> int | None:
    """One-off lookup by a linear scan; for many recipients build `AccountPricing` once."""
    price = _longest_match(phone, account_tariffs)
    return price if price is not None else _longest_match(phone, tariffs)
