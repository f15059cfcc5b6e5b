"""What the outbox's two HTTP transports share (per-message callbacks, gateway/callbacks.py;
webhook endpoints, gateway/webhooks.py): the sender, the retry policy with its clock and
jitter, reaching every account from any node, and turning one attempt into the outcome the
store logs (delivered, due again after a backoff, or a dead letter).

It sends nothing itself and never reads or marks outbox rows; a subclass builds the requests
and decides the order they go in.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Hashable, Iterator, Sequence
from typing import Protocol

from smsgate.gateway import metrics
from smsgate.gateway.outbox.transport import OutboxAttempt, OutboxItem
from smsgate.webhooks.attempt import Attempt, OutgoingRequest
from smsgate.webhooks.delivery_policy import DeadLetter, RetryAt, RetryPolicy, next_step


class Sender(Protocol):
    """webhooks.sender.HttpSender, as the transports use it."""

    async def send(self, request: OutgoingRequest) -> Attempt: ...
    async def send_many(
        self, requests: Sequence[OutgoingRequest], chains: Sequence[Hashable] | None = None
    ) -> list[Attempt]: ...


class _EveryAccount(Collection[int]):
    """Every account id, listing none: the answer of a transport that reaches them all."""

    def __contains__(self, item: object) -> bool:
        return isinstance(item, int)

    def __iter__(self) -> Iterator[int]:
        return iter(())

    def __len__(self) -> int:
        return 1  # not empty: the outbox source asks `if not ready`


EVERY_ACCOUNT = _EveryAccount()


class HttpTransport:
    """The shell of an HTTP transport; `clock` and `rand` are the policy's wall clock and
    jitter source. Any account is reachable from any node (the outbox's lease keeps one node
    per account and kind), and no item is held back. Every outcome is counted in
    smsgate_deliveries_total under the subclass's `kind`."""

    kind: str

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

    def _outcome(self, item: OutboxItem, attempt: Attempt) -> tuple[OutboxAttempt, str | None]:
        """The attempt as the store logs it, and the dead letter's reason if it is one. The
        window of retries starts at the item's queueing (its event, or its redelivery), not
        its first try."""
        now = self._clock()
        queued = item.queued_at or item.done_at
        step = next_step(
            self._policy,
            attempt,
            first_attempt_at=min(queued, now),
            failed_attempts=item.attempts + 1,
            now=now,
            rand=self._rand,
        )
        status, latency = attempt.status, attempt.latency
        if isinstance(step, RetryAt):
            metrics.count_delivery(self.kind, "retrying", latency)
            return OutboxAttempt(item.id, now, status, latency, attempt.error, step.at), None
        if isinstance(step, DeadLetter):
            metrics.count_delivery(self.kind, "dead_letter", latency)
            dead = OutboxAttempt(item.id, now, status, latency, step.reason, None, True)
            return dead, step.reason
        metrics.count_delivery(self.kind, "delivered", latency)
        return OutboxAttempt(item.id, now, status, latency, None), None

    def _dead(self, item: OutboxItem, reason: str) -> OutboxAttempt:
        """A dead letter without an attempt: an item no request can be made of."""
        metrics.count_delivery(self.kind, "dead_letter", None)
        return OutboxAttempt(item.id, self._clock(), None, 0.0, reason, None, True)
