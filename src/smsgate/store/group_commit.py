"""Group commit: many concurrent callers, one writer task. Requests that arrive while the
previous batch commits (up to a full batch) are handed to one `run_batch` call, which commits
them in one transaction; each caller's future resolves only after that commit.

Knows nothing about SQL: what a batch means is `run_batch`'s business, including making sure
one request's failure (returned as an exception in its slot) does not fail the others.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
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
    """Queue requests to one writer that runs them in batches.

    Natural batching: a request that finds the writer idle is committed at once (after
    `window` seconds, if one is set, to gather company); requests that arrive while a batch is
    committing form the next batch. So a lone request pays no wait, and under load a batch is
    whatever arrived during the previous commit. `max_weight` bounds a batch (weight is e.g.
    the number of messages of a request); what does not fit waits for the next one.
    """

    def __init__(
        self,
        run_batch: BatchRunner[Req, Res],
        *,
        window: float = 0.0,
        max_weight: int = 2_000,
    ) -> None:
        self._run_batch = run_batch
        self._window = window
        self._max_weight = max_weight
        self._pending: deque[_Pending[Req, Res]] = deque()
        self._task: asyncio.Task[None] | None = None
        self._full: asyncio.Event | None = None  # set while waiting out `window`
        self._weight = 0  # of what is pending
        self._closed = False

    async def submit(self, request: Req, weight: int = 1) -> Res:
        return await self.enqueue(request, weight)

    def enqueue(self, request: Req, weight: int = 1) -> asyncio.Future[Res]:
        """`submit` without a coroutine: the future resolves once the request is committed
        (for callers that queue many requests at once and wait for them together)."""
        if self._closed:
            raise WriterClosed("the store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Res] = loop.create_future()
        self._pending.append(_Pending(request, max(1, weight), future))
        self._weight += max(1, weight)
        if self._full is not None and self._weight >= self._max_weight:
            self._full.set()
        if self._task is None:
            self._task = loop.create_task(self._drain())
        return future

    async def close(self) -> None:
        """Finish what is queued, then stop the writer."""
        self._closed = True
        task = self._task
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(task)
        while self._pending:
            pending = self._pending.popleft()
            if not pending.future.done():
                pending.future.set_exception(WriterClosed("the store is closed"))

    async def _drain(self) -> None:
        try:
            if self._window > 0 and self._weight < self._max_weight:
                self._full = asyncio.Event()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self._window)
                self._full = None
            while self._pending:
                await self._commit(self._take())
        finally:
            self._task = None

    def _take(self) -> list[_Pending[Req, Res]]:
        pending = self._pending
        batch = [pending.popleft()]
        weight = batch[0].weight
        while pending and weight + pending[0].weight <= self._max_weight:
            item = pending.popleft()
            batch.append(item)
            weight += item.weight
        self._weight -= weight
        return batch

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
