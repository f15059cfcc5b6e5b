"""Failed password checks in the store: counted per key across nodes (none lost when two count
at once), a lock only ever lengthened, a stale count started again and deleted, a right
password's key forgotten."""

from __future__ import annotations

import asyncio

from smsgate.store.interface import Store
from smsgate.store.records import LoginFailure

NOW = 1_000_000.0
FORGET = 900.0


async def test_each_failure_counts_on_every_key_given(store: Store) -> None:
    keys = ["address:198.51.100.7", "login-from:alice@198.51.100.7", "login:alice"]
    first = await store.count_login_failure(keys, NOW, FORGET)
    assert first == dict.fromkeys(keys, LoginFailure(1, NOW, 0.0))
    second = await store.count_login_failure(keys[:1], NOW + 1, FORGET)
    assert second == {keys[0]: LoginFailure(2, NOW + 1, 0.0)}
    assert await store.login_failures([keys[0], keys[2], "address:unseen"]) == {
        keys[0]: LoginFailure(2, NOW + 1, 0.0),
        keys[2]: LoginFailure(1, NOW, 0.0),
    }


async def test_two_nodes_counting_at_once_lose_no_failure(
    store: Store, second_store: Store
) -> None:
    key = "address:203.0.113.9"
    await asyncio.gather(
        *(
            s.count_login_failure([key], NOW, FORGET)
            for _ in range(10)
            for s in (store, second_store)
        )
    )
    assert (await second_store.login_failures([key]))[key].count == 20


async def test_a_lock_is_only_ever_lengthened_and_seen_by_every_node(
    store: Store, second_store: Store
) -> None:
    key = "address:203.0.113.10"
    await store.count_login_failure([key], NOW, FORGET)
    await store.lock_login(key, NOW + 60)
    await second_store.lock_login(key, NOW + 30)  # a shorter verdict reached elsewhere
    assert (await second_store.login_failures([key]))[key].locked_until == NOW + 60
    await second_store.lock_login(key, NOW + 120)
    assert (await store.login_failures([key]))[key] == LoginFailure(1, NOW, NOW + 120)


async def test_a_stale_count_starts_again_and_stale_keys_are_deleted(store: Store) -> None:
    idle, locked = "address:192.0.2.1", "address:192.0.2.2"
    for _ in range(3):
        await store.count_login_failure([idle, locked], NOW, FORGET)
    await store.lock_login(locked, NOW + 2 * FORGET)
    later = NOW + FORGET + 1
    assert await store.count_login_failure([idle], later, FORGET) == {
        idle: LoginFailure(1, later, 0.0)
    }
    # The locked key outlives its idle time while its lock runs; a key nobody counts again is
    # deleted once stale, by any later count.
    await store.count_login_failure(["address:192.0.2.3"], NOW + 2 * FORGET + 2, FORGET)
    assert await store.login_failures([idle, locked]) == {}


async def test_forgetting_drops_only_the_keys_given(store: Store) -> None:
    keys = ["login-from:bob@192.0.2.4", "address:192.0.2.4"]
    await store.count_login_failure(keys, NOW, FORGET)
    await store.forget_login_failures(keys[:1])
    assert await store.login_failures(keys) == {keys[1]: LoginFailure(1, NOW, 0.0)}
