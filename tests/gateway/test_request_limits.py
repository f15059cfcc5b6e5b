"""The gateway rate-limits every request of an account, not only sends: status, message, balance
and sender-name calls spend a token of the account's bucket in the store. While the store has
said how long the bucket stays short, this node refuses without asking it again."""

from __future__ import annotations

import pytest

from smsgate.domain.ids import IdGenerator
from smsgate.gateway.accounts import AccountCache
from smsgate.gateway.errors import RateLimited
from smsgate.gateway.facade import Gateway
from smsgate.gateway.outbox.outbox import Outbox
from smsgate.gateway.submit import Submitter
from smsgate.store.memory import MemoryStore
from smsgate.store.records import AccountRecord, RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class CountingStore(MemoryStore):
    takes = 0

    async def take_token(self, account_id: int, now: float, limit: RateLimit) -> float | None:
        self.takes += 1
        return await super().take_token(account_id, now, limit)


async def gateway_with(rate_limit: float) -> tuple[Gateway, CountingStore, AccountRecord, Clock]:
    store = CountingStore()
    clock = Clock()
    account = await store.create_account("shop", rate_limit=rate_limit)
    accounts = AccountCache(store, ttl=0.0)
    gateway = Gateway(
        Submitter(store, accounts, IdGenerator(1), clock=clock),
        accounts,
        store,
        Outbox(store),
        clock=clock,
    )
    return gateway, store, account, clock


@pytest.mark.parametrize("call", ["balance", "senders", "status", "message"])
async def test_each_kind_of_query_spends_a_token(call: str) -> None:
    gateway, store, account, _ = await gateway_with(2)
    queries = {
        "balance": lambda: gateway.balance(account),
        "senders": lambda: gateway.senders(account),
        "status": lambda: gateway.status(account, ["1"]),
        "message": lambda: gateway.message(account, "1"),
    }
    await queries[call]()
    await queries[call]()
    with pytest.raises(RateLimited) as refused:
        await queries[call]()
    assert refused.value.retry_after == pytest.approx(0.5)
    assert store.takes == 3


async def test_a_limited_account_is_refused_here_until_its_bucket_refills() -> None:
    gateway, store, account, clock = await gateway_with(1)
    await gateway.balance(account)
    with pytest.raises(RateLimited):
        await gateway.balance(account)
    assert store.takes == 2
    clock.now += 0.5
    with pytest.raises(RateLimited) as refused:
        await gateway.balance(account)
    assert refused.value.retry_after == pytest.approx(0.5)
    assert store.takes == 2  # refused without a store write
    clock.now += 0.5
    await gateway.balance(account)
    assert store.takes == 3


async def test_an_unlimited_account_never_asks_the_store() -> None:
    gateway, store, account, _ = await gateway_with(0)
    for _ in range(20):
        await gateway.balance(account)
    assert store.takes == 0
