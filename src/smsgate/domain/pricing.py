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
    """An account's own table in front of the default plan's, per the module rule.

    A price depends only on the number's first `longest prefix` digits (no table looks further),
    so answers are remembered by those digits: a bulk send to one network probes two tables once
    per distinct head, not per recipient. Kept small: cleared when it reaches `memo_size`.
    """

    __slots__ = ("_default", "_head", "_memo", "_memo_size", "_own")

    def __init__(
        self,
        tariffs: Sequence[tuple[str, int]],
        account_tariffs: Sequence[tuple[str, int]] = (),
        *,
        memo_size: int = 65_536,
    ) -> None:
        self._default = TariffTable(tariffs)
        self._own = TariffTable(account_tariffs)
        self._head = max((len(p) for p, _ in (*tariffs, *account_tariffs)), default=0)
        self._memo: dict[str, int | None] = {}
        self._memo_size = memo_size

    def price(self, phone: str) -> int | None:
        head = phone[: self._head]
        try:
            return self._memo[head]
        except KeyError:
            pass
        # Every prefix is at most len(head) long, so `head` gets the same answer as `phone`.
        price = self._own.lookup(head)
        if price is None:
            price = self._default.lookup(head)
        if len(self._memo) >= self._memo_size:
            self._memo.clear()
        self._memo[head] = price
        return price


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
