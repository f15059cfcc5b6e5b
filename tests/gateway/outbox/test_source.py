"""Whose outbox rows a node reads: all pending accounts it can reach, or with many nodes only
those whose `<kind>:<account>` lease it holds."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from smsgate.gateway.outbox.source import AllAccounts, LeasedAccounts, lease_key
from smsgate.gateway.views import OutboxItem
from smsgate.store.sql_store import SqlStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    s = SqlStore(f"sqlite+aiosqlite:///{tmp_path}/leases.db", commit_window=0.001)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Listed:
    """Outbox rows that list the given accounts as pending, over a real lease table: the lease
    decision only needs the account listed, as a pending receipt would list it."""

    def __init__(self, store: SqlStore, accounts: list[int]) -> None:
        self._store = store
        self._accounts = accounts
        self.takes = 0

    async def outbox_accounts(self) -> list[int]:
        return self._accounts

    async def outbox_pending(self, account_id: int, limit: int) -> list[OutboxItem]:
        return []

    async def outbox_done(self, item_ids: Sequence[int]) -> None:
        pass

    async def take_lease(self, key: str, holder: str, now: float, ttl: float) -> bool:
        self.takes += 1
        return await self._store.take_lease(key, holder, now, ttl)

    async def release_lease(self, key: str, holder: str) -> None:
        await self._store.release_lease(key, holder)


async def test_a_lone_node_reads_every_pending_account_it_can_reach(store: SqlStore) -> None:
    listed = Listed(store, [1, 2, 3])
    source = AllAccounts(listed)
    assert await source.accounts({2, 3, 9}) == [2, 3]
    assert await source.accounts(set()) == []


async def test_one_node_pumps_an_accounts_receipts_while_both_can_reach_it(
    store: SqlStore,
) -> None:
    account = await store.create_account("acme")
    listed = Listed(store, [account.id])
    a = LeasedAccounts(listed, listed, "receipts", "a", ttl=5)
    b = LeasedAccounts(listed, listed, "receipts", "b", ttl=5)
    assert await a.accounts({account.id}) == [account.id]
    assert await b.accounts({account.id}) == []
    # a's bind went away: it gives the account up at once, and b takes it.
    assert await a.accounts(set()) == []
    assert await b.accounts({account.id}) == [account.id]


async def test_kinds_are_leased_apart(store: SqlStore) -> None:
    account = await store.create_account("acme")
    listed = Listed(store, [account.id])
    receipts = LeasedAccounts(listed, listed, "receipts", "a", ttl=5)
    webhooks = LeasedAccounts(listed, listed, "webhooks", "b", ttl=5)
    assert await receipts.accounts({account.id}) == [account.id]
    assert await webhooks.accounts({account.id}) == [account.id]
    assert not await store.take_lease(lease_key("receipts", account.id), "c", time.time(), 5)


async def test_the_lease_is_written_once_per_third_of_its_ttl(store: SqlStore) -> None:
    account = await store.create_account("acme")
    listed = Listed(store, [account.id])
    clock = Clock()
    a = LeasedAccounts(listed, listed, "receipts", "a", ttl=6, clock=clock)
    start = clock.now
    for i in range(20):  # the pump's rounds, 100 ms apart, for 2 s
        clock.now = start + 0.1 * i
        assert await a.accounts({account.id}) == [account.id]
    assert listed.takes == 1  # taken at 0 s; 2 s is a third of the ttl
    clock.now = start + 2.0
    assert await a.accounts({account.id}) == [account.id]
    assert listed.takes == 2
    # Still ours in the store: another node cannot take it in between.
    assert not await store.take_lease(f"receipts:{account.id}", "b", clock.now, 6)
