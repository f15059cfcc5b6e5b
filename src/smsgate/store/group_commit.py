"""Group commit: many concurrent callers, one writer task. Requests that arrive within a few
milliseconds (or until a batch is full) are handed to one `run_batch` call, which commits them
in one transaction; each caller's future resolves only after that commit.

Knows nothing about SQL: what a batch means is `run_batch`'s business, including making sure
one request's failure (returned as an exception in its slot) does not fail the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Req = TypeVar("Req")
Res = TypeVar("Res")

# One result per request, aligned; an exception in a slot is raised to that caller alone.
BatchRunner = Callable[[Sequence[Req]], Awaitable[Sequence[Res | BaseException]]]


class WriterClosed(Exception):
    """The writer was closed before the request could be committed."""


@dataclass(slots=True)
class _Pending(Generic[Req, Res]):
    request: Req
    weight: int
    future: asyncio.Future[Res]


class GroupCommit(Generic[Req, Res]):
    """Queue requests to one writer task that runs them in batches.

    `window` is how long the writer waits for more requests after the first of a batch;
    `max_weight` bounds a batch (weight is e.g. the number of messages of a request), so a
    batch closes early once it is full.
    """

    def __init__(
        self,
        run_batch: BatchRunner[Req, Res],
        *,
        window: float = 0.002,
        max_weight: int = 2_000,
    ) -> None:
        self._run_batch = run_batch
        self._window = window
        self._max_weight = max_weight
        self._queue: asyncio.Queue[_Pending[Req, Res]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._writer())

    async def submit(self, request: Req, weight: int = 1) -> Res:
        if self._closed:
            raise WriterClosed("the store is closed")
        self.start()
        future: asyncio.Future[Res] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(request, max(1, weight), future))
        return await future

    async def close(self) -> None:
        """Finish what is queued, then stop the writer."""
        self._closed = True
        task, self._task = self._task, None
        if task is None:
            return
        while not self._queue.empty() and not task.done():
            await asyncio.sleep(self._window)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            if not pending.future.done():
                pending.future.set_exception(WriterClosed("the store is closed"))

    async def _writer(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            batch = [first]
            weight = first.weight
            deadline = loop.time() + self._window
            while weight < self._max_weight:
                if self._queue.empty():
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    try:
                        item = await asyncio.wait_for(self._queue.get(), remaining)
                    except TimeoutError:
                        break
                else:
                    item = self._queue.get_nowait()
                batch.append(item)
                weight += item.weight
            await self._commit(batch)

    async def _commit(self, batch: list[_Pending[Req, Res]]) -> None:
        try:
            results = await self._run_batch([p.request for p in batch])
        except asyncio.CancelledError:
            for p in batch:
                if not p.future.done():
                    p.future.set_exception(WriterClosed("the store was closed mid-batch"))
            raise
        except Exception as exc:  # the whole batch failed: every caller hears why
            for p in batch:
                if not p.future.done():
                    p.future.set_exception(exc)
            return
        for p, result in zip(batch, results, strict=True):
            if p.future.done():  # the caller gave up waiting; the work is committed anyway
                continue
            if isinstance(result, BaseException):
                p.future.set_exception(result)
            else:
                p.future.set_result(result)
