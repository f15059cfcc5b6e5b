"""Gather many small store writes into one call: items added within a few milliseconds (or up to
`max_items`; with `max_delay=0`, within one loop turn) are flushed together, and every adder can
await its item's flush. While a flush runs, new items wait for it to end and then go out
together (a full batch does not wait).

The dispatcher and the receipt path write hundreds of rows a second one at a time; one
transaction per batch instead of per row is what makes SQLite and PostgreSQL keep up.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class Batcher(Generic[T]):
    def __init__(
        self,
        flush: Callable[[Sequence[T]], Awaitable[None]],
        *,
        max_items: int = 500,
        max_delay: float = 0.005,
        name: str = "batch",
    ) -> None:
        self._flush = flush
        self._max_items = max_items
        self._max_delay = max_delay
        self._name = name
        self._items: list[T] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._timer: asyncio.Handle | None = None
        self._running: set[asyncio.Task[None]] = set()

    def add(self, item: T) -> asyncio.Future[None]:
        """Queue one item; the returned future resolves when its batch is stored (or fails
        with the store's error)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        self._queue(item)
        return future

    def post(self, item: T) -> None:
        """Queue one item nobody waits for: a failed flush is only logged (once per batch).
        For results the store's own recovery covers, e.g. an unrecorded submit's claim lapses
        and the part is sent again."""
        self._queue(item)

    def withdraw(self, matches: Callable[[T], bool]) -> list[T]:
        """Take back the queued items (not those of a flush already running) that match, for
        a caller that stores them another way. Only for a batcher fed by post(): a waiter of
        add() is not tied to its item, so it could not be told."""
        if self._waiters:
            raise RuntimeError(f"{self._name}: items with waiters cannot be withdrawn")
        taken: list[T] = []
        kept: list[T] = []
        for item in self._items:
            (taken if matches(item) else kept).append(item)
        self._items = kept
        return taken

    def _queue(self, item: T) -> None:
        self._items.append(item)
        if len(self._items) >= self._max_items:
            self._start_flush()
        elif self._timer is None:
            loop = asyncio.get_running_loop()
            if self._max_delay > 0:
                self._timer = loop.call_later(self._max_delay, self._start_flush)
            else:  # no wait: whatever this loop turn adds (e.g. one socket read) is one batch
                self._timer = loop.call_soon(self._start_flush)

    def _start_flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._items:
            return
        if self._running and len(self._items) < self._max_items:
            # One flush at a time unless a batch is full: what arrives meanwhile goes out the
            # moment the running flush ends (see _run), as one batch instead of one small
            # transaction per loop turn queued behind it on the writer.
            return
        items, waiters = self._items, self._waiters
        self._items, self._waiters = [], []
        task = asyncio.get_running_loop().create_task(self._run(items, waiters))
        self._running.add(task)
        task.add_done_callback(self._flushed)

    async def _run(self, items: list[T], waiters: list[asyncio.Future[None]]) -> None:
        try:
            await self._flush(items)
        except Exception as exc:  # every waiter learns; the batcher lives on
            log.exception("%s flush of %d items failed", self._name, len(items))
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            return
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _flushed(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if self._items and self._timer is None:
            self._start_flush()

    async def drain(self) -> None:
        """Flush what is queued and wait for every running flush."""
        while True:
            self._start_flush()
            if not self._running:
                return
            await asyncio.gather(*self._running, return_exceptions=True)
