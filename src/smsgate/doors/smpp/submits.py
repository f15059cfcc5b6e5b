"""The SMPP door's submits of one event-loop turn, handed to the gateway together.

A customer's window arrives as a few socket reads of dozens of submit_sm each. Sent one by
one, every PDU cost a task and a chain of coroutines down to the store's group commit, on the
loop that also answers them (bench/RESULTS.md, "Session 7"). Here the submits queued during
one loop turn go to `Gateway.send_many` as one call per account: one task, one wait for the
commit, and the same rules and answers as `send` gives each of them (the store still decides
the rate limit, duplicates and money request by request, in arrival order).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from smsgate.gateway.model import SendOutcome, SendRequest
from smsgate.gateway.service import Gateway
from smsgate.gateway.views import AccountRecord

A = TypeVar("A")  # what the door answers a submit with

# How the door turns the gateway's answer to one request into its own.
Answer = Callable[[SendOutcome | Exception], A]


class SubmitQueue(Generic[A]):
    """`send` queues; a callback at the end of the loop turn starts one task per account."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        self._queued: dict[int, tuple[AccountRecord, list[_Queued[A]]]] = {}
        self._scheduled = False
        self._sending: set[asyncio.Task[None]] = set()

    def send(
        self, account: AccountRecord, request: SendRequest, answer: Answer[A]
    ) -> asyncio.Future[A]:
        """Queue one request; the future gets `answer(outcome or exception)`. A future that
        is cancelled before then (its caller is gone) is skipped: the request is still sent."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[A] = loop.create_future()
        entry = self._queued.get(account.id)
        if entry is None:
            entry = self._queued[account.id] = (account, [])
        entry[1].append(_Queued(request, answer, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return future

    async def close(self) -> None:
        """Wait for what is being sent."""
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    def _flush(self) -> None:
        self._scheduled = False
        queued, self._queued = self._queued, {}
        loop = asyncio.get_running_loop()
        for account, items in queued.values():
            task = loop.create_task(self._send(account, items))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, account: AccountRecord, items: list[_Queued[A]]) -> None:
        try:
            outcomes: list[SendOutcome | Exception] = await self._gateway.send_many(
                account, [item.request for item in items]
            )
        except Exception as exc:  # the whole call failed: every submit hears why
            outcomes = [exc] * len(items)
        for item, outcome in zip(items, outcomes, strict=True):
            try:
                answer = item.answer(outcome)
            except Exception as exc:
                if not item.future.done():
                    item.future.set_exception(exc)
                continue
            if not item.future.done():
                item.future.set_result(answer)


class _Queued(Generic[A]):
    __slots__ = ("answer", "future", "request")

    def __init__(self, request: SendRequest, answer: Answer[A], future: asyncio.Future[A]) -> None:
        self.request = request
        self.answer = answer
        self.future = future
