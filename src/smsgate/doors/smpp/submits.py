"""The SMPP door's submits of one event-loop turn, handed to the gateway together.

A customer's window arrives as a few socket reads of dozens of submit_sm each. Sent one by
one, every PDU cost a task and a chain of coroutines down to the store's group commit, on the
loop that also answers them. Here the submits queued during one loop turn (a BatchQueue per
account, with no delay and no limit on batches running at once) go to `Gateway.send_many` as
one call per account: one task, one wait for the commit, and the same rules and answers as
`send` gives each of them (the store still decides the rate limit, duplicates and money
request by request, in arrival order).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from smsgate.batching import BatchQueue
from smsgate.gateway.facade import Gateway
from smsgate.gateway.send_request import SendOutcome, SendRequest
from smsgate.gateway.views import AccountRecord

A = TypeVar("A")  # what the door answers a submit with

# How the door turns the gateway's answer to one request into its own.
Answer = Callable[[SendOutcome | Exception], A]

# A loop turn's submits beyond this go as a batch of their own, at the same time.
_MAX_BATCH = 2_000


class SubmitQueue(Generic[A]):
    """`send` queues; at the end of the loop turn one task per account sends its submits."""

    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway
        # One queue per account that ever sent here: a slow account's call does not hold
        # another's answers, as one gathered call for both would.
        self._queues: dict[int, BatchQueue[_Submit[A], A]] = {}

    def send(
        self, account: AccountRecord, request: SendRequest, answer: Answer[A]
    ) -> asyncio.Future[A]:
        """Queue one request; the future gets `answer(outcome or exception)`. A future that
        is cancelled before then (its caller is gone) is skipped: the request is still sent,
        and `answer` still called."""
        queue = self._queues.get(account.id)
        if queue is None:
            queue = self._queues[account.id] = BatchQueue(
                self._send, max_weight=_MAX_BATCH, max_running=None, name="smpp submits"
            )
        return queue.add((account, request, answer))

    async def close(self) -> None:
        """Wait for what is queued and being sent."""
        for queue in list(self._queues.values()):
            await queue.drain()

    async def _send(self, submits: list[_Submit[A]]) -> list[A | BaseException]:
        try:
            outcomes: list[SendOutcome | Exception] = await self._gateway.send_many(
                submits[0][0], [s[1] for s in submits]
            )
        except Exception as exc:  # the whole call failed: every submit hears why
            outcomes = [exc] * len(submits)
        answers: list[A | BaseException] = []
        for submit, outcome in zip(submits, outcomes, strict=True):
            try:
                answers.append(submit[2](outcome))
            except Exception as exc:
                answers.append(exc)
        return answers


# The account to send as (the turn's first record of it), the request, how to answer it.
_Submit = tuple[AccountRecord, SendRequest, Answer[A]]
