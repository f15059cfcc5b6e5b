"""The account cache: hits within the TTL, one store read for many concurrent misses, errors
reach every waiter and are not cached."""

from __future__ import annotations

import asyncio

import pytest

from smsgate.gateway.accounts import _TtlCache


class _Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_concurrent_misses_share_one_load_and_expiry_loads_again() -> None:
    clock = _Clock()
    cache: _TtlCache[int, str] = _TtlCache(5.0, clock)
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
    cache: _TtlCache[int, str] = _TtlCache(5.0, _Clock())
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
