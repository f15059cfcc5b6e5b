"""The HTTP transport of the outbox for per-message callbacks (kind "callbacks", a message's
dlr_url or callback_url): each pending item becomes the callback form (webhooks/callback_form)
sent by the shared HttpSender, all of a batch at once over its keep-alive connections (one
task per connection used, not per item).

Retries, dead letters and reaching every account come from gateway/http_transport (backoff
with jitter for 24 h, then a dead letter); it answers each item with the attempt the store
logs and settles, and never reads or marks rows itself.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from smsgate.domain.status import Status
from smsgate.gateway.http_transport import HttpTransport
from smsgate.gateway.outbox.transport import OutboxItem, Outcome, Unanswered
from smsgate.gateway.views import CALLBACKS
from smsgate.webhooks.attempt import OutgoingRequest
from smsgate.webhooks.callback_form import CallbackFields, callback_request

log = logging.getLogger(__name__)


class CallbackTransport(HttpTransport):
    """`kind` "callbacks": a batch's items all at once, each on its own."""

    kind = CALLBACKS

    async def deliver(self, account_id: int, items: Sequence[OutboxItem]) -> Sequence[Outcome]:
        outcomes: list[Outcome] = []
        sending: list[tuple[int, OutboxItem, OutgoingRequest]] = []
        for item in items:
            try:
                request = callback_item_request(item)
            except (ValueError, KeyError, TypeError) as exc:  # a row no sender can send
                log.error("callback item %s is unreadable: %s", item.id, exc)
                outcomes.append(self._dead(item, f"unreadable: {exc}"))
                continue
            sending.append((len(outcomes), item, request))
            outcomes.append(Unanswered)  # answered below
        # One message's callbacks in order (ENROUTE before its final status).
        attempts = await self._sender.send_many(
            [request for _, _, request in sending],
            [item.message_id or None for _, item, _ in sending],
        )
        for (index, item, request), attempt in zip(sending, attempts, strict=True):
            outcome, dead = self._outcome(item, attempt)
            if dead is not None:
                log.warning(
                    "callback for message %s to %s is a dead letter: %s",
                    item.message_id,
                    request.url.split("?", 1)[0],
                    dead,
                )
            outcomes[index] = outcome
        return outcomes


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
        done_at=_second(int(item.done_at)) if final else None,
    )
    return callback_request(url, fields, method)


# The form gives done_at to the second: messages finished within one share the moment, and
# its text is formatted once (callback_form caches it by moment).
@functools.lru_cache(maxsize=64)
def _second(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


@functools.lru_cache(maxsize=1024)
def _target(payload: str) -> tuple[str, Literal["GET", "POST"]]:
    """A callbacks row's URL and method (cached: one URL serves many messages)."""
    target = json.loads(payload)
    return str(target["url"]), "GET" if target["method"] == "GET" else "POST"
