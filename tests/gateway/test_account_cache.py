"""The account cache: hits within the TTL, one store read for many concurrent misses, errors
reach every waiter and are not cached; a rotated token, a disabled account and a removed sender
name take effect after the TTL (and at once after forget())."""

from __future__ import annotations

import asyncio

import pytest

from smsgate.gateway.accounts import AccountCache
from smsgate.gateway.credentials import hash_token
from smsgate.gateway.errors import Unauthorized
from smsgate.store.memory import MemoryStore
from smsgate.store.records import AccountRecord
from smsgate.ttl_cache import TtlCache


class _Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_misses_share_one_load_and_expiry_loads_again() -> None:
    clock = _Clock()
    cache: TtlCache[int, str] = TtlCache(5.0, clock)
    loads = 0

    async def load() -> str:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return f"v{loads}"

    values = await asyncio.gather(*(cache.get(1, load) for _ in range(64)))
    assert values == ["v1"] * 64 and loads == 1
    assert await cache.get(1, load) == "v1" and loads == 1
    clock.now += 5.0
    assert await cache.get(1, load) == "v2" and loads == 2


async def test_a_failed_load_reaches_every_waiter_and_is_not_cached() -> None:
    cache: TtlCache[int, str] = TtlCache(5.0, _Clock())
    calls = 0

    async def failing() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        raise RuntimeError("store down")

    results = await asyncio.gather(
        *(cache.get(1, failing) for _ in range(8)), return_exceptions=True
    )
    assert calls == 1 and all(isinstance(r, RuntimeError) for r in results)

    async def ok() -> str:
        return "back"

    assert await cache.get(1, ok) == "back"
    with pytest.raises(RuntimeError):
        await cache.get(2, failing)


class _Store(MemoryStore):
    """The in-memory store, counting the token look-ups that reach it."""

    def __init__(self) -> None:
        super().__init__()
        self.token_reads = 0

    async def account_by_token_hash(self, token_hash: str) -> AccountRecord | None:
        self.token_reads += 1
        return await super().account_by_token_hash(token_hash)


async def _cache() -> tuple[AccountCache, _Store, _Clock, int]:
    """A cache over a store holding one account (token "old-token", senders Shop and Promo)."""
    store, clock = _Store(), _Clock()
    account = await store.create_account("shop")
    await store.set_token_hash(account.id, hash_token("old-token"))
    for name in ("Shop", "Promo"):
        await store.add_originator(account.id, name)
    return AccountCache(store, ttl=5.0, clock=clock), store, clock, account.id


async def test_a_token_hit_is_served_from_the_cache_within_the_ttl() -> None:
    cache, store, _, account = await _cache()
    assert (await cache.by_token(" old-token ")).id == account
    assert (await cache.by_token("old-token")).id == account
    assert store.token_reads == 1


async def test_a_rotated_token_stops_working_after_the_ttl() -> None:
    cache, store, clock, account = await _cache()
    await cache.by_token("old-token")
    await store.set_token_hash(account, hash_token("new-token"))
    assert (await cache.by_token("new-token")).id == account
    clock.now += 4.9
    assert (await cache.by_token("old-token")).id == account  # still within the TTL, as before
    clock.now += 0.1
    with pytest.raises(Unauthorized):
        await cache.by_token("old-token")
    assert (await cache.by_token("new-token")).id == account


async def test_a_disabled_account_is_refused_after_the_ttl_and_at_once_after_forget() -> None:
    cache, store, clock, account = await _cache()
    await cache.by_token("old-token")
    await store.set_active(account, False)
    clock.now += 5.0
    with pytest.raises(Unauthorized):
        await cache.by_token("old-token")
    await store.set_active(account, True)
    with pytest.raises(Unauthorized):  # the disabled record is cached for the TTL ...
        await cache.by_token("old-token")
    cache.forget()  # ... unless forget() drops it
    assert (await cache.by_token("old-token")).id == account
    assert store.token_reads == 3


async def test_an_unknown_or_empty_token_is_refused() -> None:
    cache, _, _, _ = await _cache()
    for token in ("", "   ", "no-such-token"):
        with pytest.raises(Unauthorized):
            await cache.by_token(token)


async def test_a_removed_sender_is_refused_after_the_ttl_and_at_once_after_forget() -> None:
    cache, store, clock, account = await _cache()
    assert cache.cached_sender_set(account) is None  # nothing cached before the first load
    assert await cache.sender_set(account) == {"Shop", "Promo"}
    await store.remove_originator(account, "Promo")
    assert cache.cached_sender_set(account) == {"Shop", "Promo"}
    clock.now += 5.0
    assert cache.cached_sender_set(account) is None
    assert await cache.sender_set(account) == {"Shop"}
    await store.remove_originator(account, "Shop")
    cache.forget()
    assert cache.cached_sender_set(account) is None
    assert await cache.sender_set(account) == frozenset()
