"""The HTTP transport of the outbox for per-message callbacks (kind "callbacks", a message's
dlr_url or callback_url): each pending item becomes the callback form (webhooks/callback_form)
sent by the shared HttpSender, all of a batch at once over its keep-alive connections.

It decides retries with webhooks/delivery_policy (backoff with jitter for 24 h, then a dead
letter) and answers each item with the attempt the store logs and settles; it never reads or
marks rows itself. Any account is reachable from any node (one node sends an account's
callbacks at a time: the outbox's lease), so it never holds an item back.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime
from typing import Literal, Protocol

from smsgate.domain.status import Status
from smsgate.gateway.outbox.transport import OutboxAttempt, OutboxItem, Outcome
from smsgate.gateway.views import CALLBACKS
from smsgate.webhooks.attempt import Attempt, OutgoingRequest
from smsgate.webhooks.callback_form import CallbackFields, callback_request
from smsgate.webhooks.delivery_policy import DeadLetter, RetryAt, RetryPolicy, next_step

log = logging.getLogger(__name__)


class Sender(Protocol):
    """webhooks.sender.HttpSender, as this transport uses it."""

    async def send(self, request: OutgoingRequest) -> Attempt: ...


class _EveryAccount(Collection[int]):
    """Every account id, listing none: the answer of a transport that reaches them all."""

    def __contains__(self, item: object) -> bool:
        return isinstance(item, int)

    def __iter__(self) -> Iterator[int]:
        return iter(())

    def __len__(self) -> int:
        return 1  # not empty: the outbox source asks `if not ready`


EVERY_ACCOUNT = _EveryAccount()


class CallbackTransport:
    """`kind` "callbacks"; `clock` and `rand` are the policy's wall clock and jitter source."""

    kind = CALLBACKS

    def __init__(
        self,
        sender: Sender,
        policy: RetryPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._sender = sender
        self._policy = policy if policy is not None else RetryPolicy()
        self._clock = clock
        self._rand = rand

    def ready_accounts(self) -> Collection[int]:
        return EVERY_ACCOUNT

    def sendable(self, account_id: int, items: Sequence[OutboxItem]) -> int:
        return len(items)

    async def deliver(self, account_id: int, items: Sequence[OutboxItem]) -> Sequence[Outcome]:
        return await asyncio.gather(*(self._deliver(item) for item in items))

    async def _deliver(self, item: OutboxItem) -> OutboxAttempt:
        try:
            request = callback_item_request(item)
        except (ValueError, KeyError, TypeError) as exc:  # a row no sender can send
            log.error("callback item %s is unreadable: %s", item.id, exc)
            return OutboxAttempt(
                item.id, self._clock(), None, 0.0, f"unreadable: {exc}", None, True
            )
        attempt = await self._sender.send(request)
        now = self._clock()
        # The window of retries starts at the item's queueing (the message's final status).
        step = next_step(
            self._policy,
            attempt,
            first_attempt_at=min(item.done_at, now),
            failed_attempts=item.attempts + 1,
            now=now,
            rand=self._rand,
        )
        error = attempt.error
        if isinstance(step, RetryAt):
            return OutboxAttempt(item.id, now, attempt.status, attempt.latency, error, step.at)
        if isinstance(step, DeadLetter):
            log.warning(
                "callback for message %s to %s is a dead letter: %s",
                item.message_id,
                request.url.split("?", 1)[0],
                step.reason,
            )
            return OutboxAttempt(
                item.id, now, attempt.status, attempt.latency, step.reason, None, True
            )
        return OutboxAttempt(item.id, now, attempt.status, attempt.latency, None)


def callback_item_request(item: OutboxItem) -> OutgoingRequest:
    """The callback form for one outbox item: its message's id, phone, status, error, parts,
    and done_at once final; sent to the payload's URL with its method."""
    url, method = _target(item.payload or "{}")
    status = item.status if item.status is not None else Status.ENROUTE
    final = status is not Status.ENROUTE
    fields = CallbackFields(
        id=str(item.message_id),
        phone=item.phone,
        status=status.value,
        err=str(item.error) if item.error else "",
        parts=item.parts,
        done_at=datetime.fromtimestamp(item.done_at, UTC) if final else None,
    )
    return callback_request(url, fields, method)


@functools.lru_cache(maxsize=1024)
def _target(payload: str) -> tuple[str, Literal["GET", "POST"]]:
    """A callbacks row's URL and method (cached: one URL serves many messages)."""
    target = json.loads(payload)
    return str(target["url"]), "GET" if target["method"] == "GET" else "POST"
