"""The TTL cache: hits within the TTL, one load shared by concurrent misses, failures reach
every waiter and are not cached, a cancelled waiter leaves the load to the others, and
clear() keeps a load begun before it out of the cache."""

from __future__ import annotations

import asyncio

import pytest

from smsgate.ttl_cache import TtlCache

TIMEOUT = 5


class _Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


class _Load:
    """A load held until released, counting its calls; answers `v<call number>`."""

    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()
        self.fail: Exception | None = None

    async def __call__(self) -> str:
        self.calls += 1
        call = self.calls
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        return f"v{call}"


async def test_concurrent_misses_share_one_load_and_the_value_lives_its_ttl() -> None:
    clock, load = _Clock(), _Load()
    cache: TtlCache[int, str] = TtlCache(5.0, clock)
    waiting = [asyncio.ensure_future(cache.get(1, load)) for _ in range(64)]
    await asyncio.sleep(0)
    load.release.set()
    assert await asyncio.wait_for(asyncio.gather(*waiting), TIMEOUT) == ["v1"] * 64
    assert load.calls == 1
    entry = cache.peek(1)
    assert entry is not None and entry.value == "v1"
    clock.now += 4.9
    assert await cache.get(1, load) == "v1" and load.calls == 1
    clock.now += 0.1  # the TTL counts from when the load began
    assert cache.peek(1) is None
    assert await asyncio.wait_for(cache.get(1, load), TIMEOUT) == "v2" and load.calls == 2


async def test_a_cached_none_is_a_hit() -> None:
    cache: TtlCache[str, None] = TtlCache(5.0, _Clock())
    loads = 0

    async def load() -> None:
        nonlocal loads
        loads += 1

    assert await cache.get("nobody", load) is None
    entry = cache.peek("nobody")
    assert entry is not None and entry.value is None
    assert await cache.get("nobody", load) is None and loads == 1


async def test_a_failed_load_reaches_every_waiter_and_is_not_cached() -> None:
    cache: TtlCache[int, str] = TtlCache(5.0, _Clock())
    load = _Load()
    load.fail = RuntimeError("store down")
    waiting = [asyncio.ensure_future(cache.get(1, load)) for _ in range(8)]
    await asyncio.sleep(0)
    load.release.set()
    results = await asyncio.wait_for(asyncio.gather(*waiting, return_exceptions=True), TIMEOUT)
    assert load.calls == 1 and all(isinstance(r, RuntimeError) for r in results)
    load.fail = None
    assert await asyncio.wait_for(cache.get(1, load), TIMEOUT) == "v2"


async def test_a_cancelled_waiter_does_not_cancel_the_load_the_others_wait_for() -> None:
    cache: TtlCache[int, str] = TtlCache(5.0, _Clock())
    load = _Load()
    first = asyncio.ensure_future(cache.get(1, load))  # the caller that started the load
    others = [asyncio.ensure_future(cache.get(1, load)) for _ in range(3)]
    await asyncio.sleep(0)
    first.cancel()
    others[0].cancel()
    load.release.set()
    assert await asyncio.wait_for(asyncio.gather(*others[1:]), TIMEOUT) == ["v1", "v1"]
    with pytest.raises(asyncio.CancelledError):
        await first
    assert load.calls == 1


async def test_a_load_every_waiter_left_still_fills_the_cache() -> None:
    cache: TtlCache[int, str] = TtlCache(5.0, _Clock())
    load = _Load()
    gone = asyncio.ensure_future(cache.get(1, load))
    await asyncio.sleep(0)
    gone.cancel()
    load.release.set()
    async with asyncio.timeout(TIMEOUT):
        while cache.peek(1) is None:
            await asyncio.sleep(0.001)
    assert await cache.get(1, load) == "v1" and load.calls == 1


async def test_a_load_begun_before_clear_answers_its_callers_but_is_not_kept() -> None:
    cache: TtlCache[int, str] = TtlCache(5.0, _Clock())
    load = _Load()
    before = asyncio.ensure_future(cache.get(1, load))
    await asyncio.sleep(0)
    cache.clear()  # e.g. an admin change: the value being read may be the old one
    after = asyncio.ensure_future(cache.get(1, load))  # a load of its own
    await asyncio.sleep(0)
    load.release.set()
    assert await asyncio.wait_for(before, TIMEOUT) == "v1"
    assert await asyncio.wait_for(after, TIMEOUT) == "v2"
    entry = cache.peek(1)
    assert entry is not None and entry.value == "v2" and load.calls == 2


async def test_a_full_cache_starts_over() -> None:
    cache: TtlCache[int, int] = TtlCache(5.0, _Clock(), max_size=2)

    async def load_one() -> int:
        return 1

    for key in range(3):
        await cache.get(key, load_one)
    assert cache.peek(0) is None and cache.peek(1) is None and cache.peek(2) is not None
