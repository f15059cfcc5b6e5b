"""Batching: many callers queue items, one consumer takes them in batches, each caller gets its
own item's result. One store transaction per batch instead of per item is what lets SQLite and
PostgreSQL keep up with accepts, dispatch results and receipts.

Knows nothing of what a batch means: `run` does the work and must keep one item's failure
(returned as an exception in its slot) from failing the others. Never drops a queued item.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from smsgate.log_limit import LimitedLog

Item = TypeVar("Item")
Res = TypeVar("Res")
log = logging.getLogger(__name__)

# One result per item, aligned with the batch; an exception in a slot reaches that caller alone.
# An exception raised by `run` itself reaches every caller of the batch.
BatchRun = Callable[[list[Item]], Awaitable[Sequence[Res | BaseException]]]


class QueueClosed(Exception):
    """The queue was closed (or its consumer cancelled) before the item was run."""


def whole_batch(flush: Callable[[Sequence[Item]], Awaitable[None]]) -> BatchRun[Item, None]:
    """A `run` for work that succeeds or fails as a whole (a batch of store writes with no
    per-item answer): every caller of the batch gets None, or the flush's exception."""

    async def run(items: list[Item]) -> Sequence[None]:
        await flush(items)
        return [None] * len(items)

    return run


# An item, its weight (at least 1) and its caller's future (None: posted). A tuple: this is
# built once per item on the hot path, and a tuple is the cheapest record Python has.
_Queued = tuple[Item, int, "asyncio.Future[Res] | None"]


class BatchQueue(Generic[Item, Res]):
    """When a batch goes: `delay` seconds after its first item was queued (0: at the end of
    the loop turn that queued it, e.g. one socket read's worth), or at once when the queued
    weight reaches `max_weight` — but never while `max_running` batches are running (None: no
    limit); then it goes the moment one ends, with whatever arrived meanwhile. A batch holds
    at most `max_weight` (weight: e.g. a request's message count; a heavier item goes alone).
    So a lone item pays at most `delay`, and under load a batch is what arrived during the
    previous one.

    Order: items run in the order queued, within a batch and across batches (with one batch
    running at a time). A caller who stops waiting (its future cancelled) only stops waiting:
    its item still runs, and the others' results are not touched.
    """

    def __init__(
        self,
        run: BatchRun[Item, Res],
        *,
        delay: float = 0.0,
        max_weight: int = 500,
        max_running: int | None = 1,
        name: str = "batch",
    ) -> None:
        self._run = run
        self._delay = delay
        self._max_weight = max_weight
        self._max_running = max_running
        self._name = name
        self._queued: deque[_Queued[Item, Res]] = deque()
        # The loop of the first add, kept: on Python 3.11 asyncio.get_running_loop() is a
        # getpid() system call, and a queue takes an item per request or receipt.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._weight = 0  # of what is queued
        self._due = 0.0  # loop time the queued items' batch may go
        self._workers: set[asyncio.Task[None]] = set()  # for drain() to wait on
        self._active = 0  # workers that have not returned (a finished one may still be listed)
        self._gathering = False  # a worker will take the queued items: no new one is needed
        self._wake: asyncio.Future[None] | None = None  # a gathering worker's wait for `_due`
        self._hurry = 0  # drain() calls in progress: queued items are due at once
        self._closed = False
        # While the store is in trouble every batch fails the same way, many a second: one
        # line with its traceback every few seconds says so (each caller hears it anyway).
        self._failures = LimitedLog(log)

    def add(self, item: Item, weight: int = 1) -> asyncio.Future[Res]:
        """Queue `item`; the future resolves with its result once its batch has run."""
        future: asyncio.Future[Res] = self._running_loop().create_future()
        self._queue((item, weight if weight > 1 else 1, future))
        return future

    def post(self, item: Item, weight: int = 1) -> None:
        """Queue `item` with nobody waiting: its failure is only logged. For work whose loss
        something else repairs (e.g. an unrecorded submit's claim lapses and it is sent again)."""
        self._queue((item, weight if weight > 1 else 1, None))

    def withdraw(self, matches: Callable[[Item], bool]) -> list[Item]:
        """Take back the queued posted items that match (not those of a running batch, nor
        any with a waiter), for a caller that will run them another way."""
        taken: list[Item] = []
        kept: deque[_Queued[Item, Res]] = deque()
        for queued in self._queued:
            if queued[2] is None and matches(queued[0]):
                taken.append(queued[0])
                self._weight -= queued[1]
            else:
                kept.append(queued)
        self._queued = kept
        return taken

    async def drain(self) -> None:
        """Run what is queued now, without waiting out `delay`, and wait for every batch."""
        self._hurry += 1
        try:
            self._wake_gatherer()
            while self._workers:
                await asyncio.gather(*self._workers, return_exceptions=True)
        finally:
            self._hurry -= 1

    async def close(self) -> None:
        """Refuse new items, run what is queued and wait for it."""
        self._closed = True
        await self.drain()
        while self._queued:  # left by a cancelled consumer
            future = self._queued.popleft()[2]
            if future is not None and not future.done():
                future.set_exception(QueueClosed(f"{self._name} is closed"))
        self._weight = 0

    def _queue(self, queued: _Queued[Item, Res]) -> None:
        if self._closed:
            raise QueueClosed(f"{self._name} is closed")
        if not self._queued and self._delay > 0:
            self._due = self._running_loop().time() + self._delay
        self._queued.append(queued)
        self._weight += queued[1]
        if self._gathering:
            if self._weight >= self._max_weight:
                self._wake_gatherer()
        else:
            self._spawn()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        return loop

    def _spawn(self) -> None:
        """Start a worker to gather the queued items, if the limit allows one more."""
        if self._max_running is None or self._active < self._max_running:
            self._gathering = True
            self._active += 1
            worker = self._running_loop().create_task(self._work())
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)

    def _wake_gatherer(self) -> None:
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def _work(self) -> None:
        """Take batches while items are queued and no other worker is gathering them. Starts
        as the gatherer, and runs its first step after the loop turn that started it."""
        loop = asyncio.get_running_loop()
        gathering = True
        try:
            while True:
                if self._delay > 0 and not self._hurry and self._weight < self._max_weight:
                    wait = self._due - loop.time()
                    if wait > 0:
                        self._wake = loop.create_future()
                        timer = loop.call_later(wait, self._wake_gatherer)
                        try:
                            await self._wake
                        finally:
                            timer.cancel()
                            self._wake = None
                self._gathering = gathering = False
                if self._queued:
                    batch = self._take()
                    if self._queued:  # more than a batch: the rest is due now, beside this one
                        self._spawn()
                    await self._run_batch(batch)
                if not self._queued or self._gathering:
                    return  # nothing left, or another worker is gathering it
                self._gathering = gathering = True
        finally:
            # Here, not in a done callback: an item queued before that callback ran would
            # find the limit reached and no worker left to take it.
            self._active -= 1
            if gathering:
                self._gathering = False

    def _take(self) -> list[_Queued[Item, Res]]:
        queued = self._queued
        first = queued.popleft()
        batch = [first]
        weight = first[1]
        limit = self._max_weight
        while queued and weight + queued[0][1] <= limit:
            item = queued.popleft()
            batch.append(item)
            weight += item[1]
        self._weight -= weight
        return batch

    async def _run_batch(self, batch: list[_Queued[Item, Res]]) -> None:
        try:
            results = await self._run([q[0] for q in batch])
        except asyncio.CancelledError:
            for _, _, future in batch:
                if future is not None and not future.done():
                    future.set_exception(QueueClosed(f"{self._name} was cancelled mid-batch"))
            raise
        except Exception as exc:  # the whole batch failed: every caller hears why
            self._failures.warning(
                type(exc).__name__,
                "%s: a batch of %d items failed",
                self._name,
                len(batch),
                exc_info=exc,
            )
            for _, _, future in batch:
                if future is not None and not future.done():
                    future.set_exception(exc)
            return
        for (_, _, future), result in zip(batch, results, strict=True):
            if future is None:
                if result is not None and isinstance(result, BaseException):
                    log.error("%s: a posted item failed", self._name, exc_info=result)
            elif future.done():  # its caller stopped waiting; the item ran anyway
                continue
            elif isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
