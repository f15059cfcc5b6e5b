"""A cache whose entries live `ttl` seconds and whose misses share one load: when a hot entry
expires under load, the requests in flight wait for one store read instead of each making
their own (64 SMPP submits in flight otherwise reload an account's senders 64 times).

Cancellation rule: the load runs in a task of its own, never in a caller's. A caller that is
cancelled only stops waiting; the load goes on for the others and still fills the cache, since
one caller giving up (a client gone) says nothing of whether the rest still want the value.
Must not cache a failure, nor a value whose load began before `clear()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Entry(Generic[V]):
    __slots__ = ("expires_at", "value")

    def __init__(self, value: V, expires_at: float) -> None:
        self.value = value
        self.expires_at = expires_at


class TtlCache(Generic[K, V]):
    """`clock` gives seconds; a value expires `ttl` seconds after its load began. When
    `max_size` entries are held, the next new one clears the cache (hot entries come back in
    one load each, and nothing tracks recency on the hit path)."""

    def __init__(self, ttl: float, clock: Callable[[], float], max_size: int = 100_000) -> None:
        self._ttl = ttl
        self._clock = clock
        self._max = max_size
        self._data: dict[K, Entry[V]] = {}
        self._loading: dict[K, asyncio.Task[V]] = {}
        self._generation = 0  # bumped by clear(): a load begun before must not fill the cache

    def peek(self, key: K) -> Entry[V] | None:
        """The live entry for `key`, without a coroutine: a hit on the hot path costs one call
        and only a miss goes through `get` (an entry, so a cached None is a hit)."""
        entry = self._data.get(key)
        if entry is not None and entry.expires_at > self._clock():
            return entry
        return None

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The live value for `key`, else the result of the load in flight for it, else of
        `load()` started now; a failed load raises to every caller waiting for it."""
        entry = self._data.get(key)
        if entry is not None and entry.expires_at > self._clock():
            return entry.value
        task = self._loading.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._load(key, load, self._generation))
            self._loading[key] = task
            task.add_done_callback(_retrieved)
        # shield: a cancelled caller must not cancel the load the others wait for
        return await asyncio.shield(task)

    def clear(self) -> None:
        """Drop every entry; loads in flight still answer their callers but are not kept."""
        self._data.clear()
        self._loading.clear()
        self._generation += 1

    async def _load(self, key: K, load: Callable[[], Awaitable[V]], generation: int) -> V:
        started = self._clock()
        try:
            value = await load()
        finally:
            if self._generation == generation:
                del self._loading[key]
        if self._generation == generation:
            if len(self._data) >= self._max:
                self._data.clear()
            self._data[key] = Entry(value, started + self._ttl)
        return value


def _retrieved(task: asyncio.Task[V]) -> None:
    # Every waiter may have been cancelled: a failure nobody awaited is not an unhandled one.
    if not task.cancelled():
        task.exception()
