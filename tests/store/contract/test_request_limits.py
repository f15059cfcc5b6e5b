"""Requests other than sends spend a token of the account's one rate bucket, in the store: the
bucket accepts spend, shared by every node."""

from __future__ import annotations

import asyncio

import pytest

from smsgate.store.interface import Store, StoreError
from smsgate.store.records import Outcome, RateLimit

from ..builders import NOW, PRICE, new_message, request

LIMIT = RateLimit(rate=9.0, burst=9.0)


async def account_of(store: Store, login: str = "shop") -> int:
    account = await store.create_account(login)
    await store.top_up(account.id, 100 * PRICE)
    return account.id


async def test_a_burst_gets_the_bucket_size_then_waits_for_the_refill(store: Store) -> None:
    account = await account_of(store)
    answers = [await store.take_token(account, NOW, LIMIT) for _ in range(12)]
    assert answers[:9] == [None] * 9
    for wait in answers[9:]:
        assert wait is not None and wait == pytest.approx(1 / 9, abs=1e-6)
    # refused takes spent nothing: one ninth of a second later there is one token again
    assert await store.take_token(account, NOW + 1 / 9 + 1e-6, LIMIT) is None
    assert await store.take_token(account, NOW + 1 / 9 + 1e-6, LIMIT) is not None


async def test_queries_and_sends_share_one_bucket(store: Store) -> None:
    account = await account_of(store)
    for _ in range(9):
        assert await store.take_token(account, NOW, LIMIT) is None
    sent = await store.accept(request(account, new_message(account), rate_limit=LIMIT))
    assert sent.retry_after is not None and sent.outcomes == ()
    later = NOW + 1.0
    sent = await store.accept(request(account, new_message(account), now=later, rate_limit=LIMIT))
    assert sent.outcomes == (Outcome.ACCEPTED,)
    assert await store.take_token(account, later, LIMIT) is None  # 9 back, 1 sent, 8 left


async def test_accounts_have_buckets_of_their_own(store: Store) -> None:
    shop, other = await account_of(store), await account_of(store, "other")
    for _ in range(9):
        await store.take_token(shop, NOW, LIMIT)
    assert await store.take_token(shop, NOW, LIMIT) is not None
    assert await store.take_token(other, NOW, LIMIT) is None


async def test_concurrent_takes_on_two_nodes_spend_each_token_once(
    store: Store, second_store: Store
) -> None:
    account = await account_of(store)
    answers = await asyncio.gather(
        *(s.take_token(account, NOW, LIMIT) for _ in range(10) for s in (store, second_store))
    )
    assert sum(a is None for a in answers) == 9


async def test_an_unknown_account_is_an_error(store: Store) -> None:
    with pytest.raises(StoreError):
        await store.take_token(999_999, NOW, LIMIT)
