"""Idempotency-Keys in the store: the first caller serves, later ones see its claim and answer,
a lapsed key is served afresh, and two nodes racing for one key cannot both win."""

from __future__ import annotations

import asyncio

import pytest

from smsgate.store.interface import Store, StoreError
from smsgate.store.records import KeyClaim

DAY = 86_400.0


async def test_first_claim_serves_and_later_ones_see_its_answer(store: Store) -> None:
    account = await store.create_account("shop")
    assert await store.claim_key(account.id, "k1", "fp", 1000.0, DAY) is None
    assert await store.claim_key(account.id, "k1", "fp", 1001.0, DAY) == KeyClaim("fp", None, None)
    await store.answer_key(account.id, "k1", 201, b'{"ok":1}')
    assert await store.claim_key(account.id, "k1", "other", 1002.0, DAY) == KeyClaim(
        "fp", 201, b'{"ok":1}'
    )


async def test_keys_are_per_account(store: Store) -> None:
    a = await store.create_account("a")
    b = await store.create_account("b")
    assert await store.claim_key(a.id, "same", "fa", 1000.0, DAY) is None
    assert await store.claim_key(b.id, "same", "fb", 1000.0, DAY) is None


async def test_a_lapsed_key_is_served_afresh(store: Store) -> None:
    account = await store.create_account("shop")
    assert await store.claim_key(account.id, "k", "old", 1000.0, DAY) is None
    await store.answer_key(account.id, "k", 201, b"first")
    assert await store.claim_key(account.id, "k", "new", 1000.0 + DAY + 1, DAY) is None
    assert await store.claim_key(account.id, "k", "x", 1000.0 + DAY + 2, DAY) == KeyClaim(
        "new", None, None
    )


async def test_release_frees_an_unanswered_key_but_keeps_an_answered_one(store: Store) -> None:
    account = await store.create_account("shop")
    assert await store.claim_key(account.id, "failed", "fp", 1000.0, DAY) is None
    await store.release_key(account.id, "failed")
    assert await store.claim_key(account.id, "failed", "fp2", 1001.0, DAY) is None
    assert await store.claim_key(account.id, "done", "fp", 1000.0, DAY) is None
    await store.answer_key(account.id, "done", 200, b"kept")
    await store.release_key(account.id, "done")
    claim = await store.claim_key(account.id, "done", "fp", 1002.0, DAY)
    assert claim is not None and claim.body == b"kept"


async def test_two_nodes_racing_for_one_key_give_it_to_one(
    store: Store, second_store: Store
) -> None:
    account = await store.create_account("shop")
    for n in range(5):
        key = f"race-{n}"
        results = await asyncio.gather(
            store.claim_key(account.id, key, "one", 1000.0, DAY),
            second_store.claim_key(account.id, key, "two", 1000.0, DAY),
        )
        assert sorted(r is None for r in results) == [False, True]


async def test_a_key_of_an_unknown_account_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError):
        await store.claim_key(999, "k", "fp", 1000.0, DAY)
