"""Whose outbox rows a node reads: all pending accounts it can reach, or with many nodes only
those whose `<kind>:<account>` lease it holds."""

from __future__ import annotations

import time

from smsgate.gateway.outbox.source import AllAccounts, LeasedAccounts, lease_key
from smsgate.store.memory import MemoryStore
from smsgate.store.records import RECEIPTS


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Listed(MemoryStore):
    """The in-memory store, whose outbox lists the given accounts as pending (the lease
    decision only needs the account listed, as a pending receipt would list it), counting
    the lease writes."""

    def __init__(self, accounts: list[int] | None = None) -> None:
        super().__init__()
        self.listed = accounts or []
        self.takes = 0

    async def outbox_accounts(self, *, kind: str = RECEIPTS) -> list[int]:
        return self.listed

    async def take_lease(self, key: str, holder: str, now: float, ttl: float) -> bool:
        self.takes += 1
        return await super().take_lease(key, holder, now, ttl)


async def _acme() -> tuple[Listed, int]:
    """A store with one account, listed as pending."""
    listed = Listed()
    account = await listed.create_account("acme")
    listed.listed = [account]
    return listed, account


async def test_a_lone_node_reads_every_pending_account_it_can_reach() -> None:
    listed = Listed([1, 2, 3])
    source = AllAccounts(listed)
    assert await source.accounts({2, 3, 9}) == [2, 3]
    assert await source.accounts(set()) == []


async def test_one_node_pumps_an_accounts_receipts_while_both_can_reach_it() -> None:
    listed, account = await _acme()
    a = LeasedAccounts(listed, listed, "receipts", "a", ttl=5)
    b = LeasedAccounts(listed, listed, "receipts", "b", ttl=5)
    assert await a.accounts({account}) == [account]
    assert await b.accounts({account}) == []
    # a's bind went away: it gives the account up at once, and b takes it.
    assert await a.accounts(set()) == []
    assert await b.accounts({account}) == [account]


async def test_kinds_are_leased_apart() -> None:
    listed, account = await _acme()
    receipts = LeasedAccounts(listed, listed, "receipts", "a", ttl=5)
    webhooks = LeasedAccounts(listed, listed, "webhooks", "b", ttl=5)
    assert await receipts.accounts({account}) == [account]
    assert await webhooks.accounts({account}) == [account]
    assert not await listed.take_lease(lease_key("receipts", account), "c", time.time(), 5)


async def test_the_lease_is_written_once_per_third_of_its_ttl() -> None:
    listed, account = await _acme()
    clock = Clock()
    a = LeasedAccounts(listed, listed, "receipts", "a", ttl=6, clock=clock)
    start = clock.now
    for i in range(20):  # the pump's rounds, 100 ms apart, for 2 s
        clock.now = start + 0.1 * i
        assert await a.accounts({account}) == [account]
    assert listed.takes == 1  # taken at 0 s; 2 s is a third of the ttl
    clock.now = start + 2.0
    assert await a.accounts({account}) == [account]
    assert listed.takes == 2
    # Still ours in the store: another node cannot take it in between.
    assert not await listed.take_lease(f"receipts:{account}", "b", clock.now, 6)


async def test_a_deferring_node_leaves_an_account_to_the_others_and_takes_it_when_none_does() -> (
    None
):
    listed, account = await _acme()
    clock = Clock()
    start = clock.now
    a = LeasedAccounts(listed, listed, "callbacks", "a", ttl=3, clock=clock)
    b = LeasedAccounts(listed, listed, "callbacks", "b", ttl=3, clock=clock, defer=1.0)
    assert await b.accounts({account}) == []  # asked first, but defers
    assert listed.takes == 0
    assert await a.accounts({account}) == [account]
    clock.now = start + 1.5  # b has waited out its deferral: it bids, but a holds the lease
    assert await b.accounts({account}) == []
    # a stops renewing (it went away): once its lease runs out b takes the account.
    clock.now = start + 3.5
    assert await b.accounts({account}) == [account]


async def test_a_deferring_node_alone_takes_the_account_after_its_deferral() -> None:
    listed, account = await _acme()
    clock = Clock()
    start = clock.now
    b = LeasedAccounts(listed, listed, "callbacks", "b", ttl=3, clock=clock, defer=1.0)
    for i in range(10):  # the pump's rounds for the first second
        clock.now = start + 0.1 * i
        assert await b.accounts({account}) == []
    clock.now = start + 1.0
    assert await b.accounts({account}) == [account]
    # Nothing pending for a round, then rows again: held leases are not deferred.
    listed.listed = []
    clock.now = start + 1.1
    assert await b.accounts({account}) == []
    listed.listed = [account]
    clock.now = start + 1.2
    assert await b.accounts({account}) == [account]
