"""The HTTP transport of the outbox for webhook endpoints (kind "webhooks"): each item is one
event for one endpoint, sent as a JSON body `{"type", "timestamp", "data"}` signed as Standard
Webhooks do it (webhooks/signing: the endpoint's secret and, during a rotation, its old one).

At least once and in order per endpoint: an endpoint's items of a batch go one after another;
one that fails is due again after a backoff with jitter (webhooks/delivery_policy) and the
endpoint is blocked until then, so its later items wait behind it (they are left unanswered
and the pump comes back); after 24 h of retries an item is a dead letter. An endpoint failing
for 24 h without a success is disabled, says why (log, `admin webhooks list`), and its items
become dead letters an operator can redeliver. Other endpoints of the account go on meanwhile.

It reads endpoints and writes their health through the store's WebhookEndpoints role; it never
reads or marks outbox rows (the pump settles the attempts it answers with).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from smsgate.gateway.http_transport import HttpTransport, Sender
from smsgate.gateway.outbox.transport import OutboxItem, Outcome, Unanswered
from smsgate.gateway.views import WEBHOOKS
from smsgate.store.records import EndpointHealth, WebhookEndpoint
from smsgate.store.roles import WebhookEndpoints
from smsgate.webhooks import delivery_policy
from smsgate.webhooks.attempt import OutgoingRequest
from smsgate.webhooks.delivery_policy import RetryPolicy
from smsgate.webhooks.signing import parse_secret, signature_headers

log = logging.getLogger(__name__)

_Entry = tuple[int, OutboxItem, dict[str, Any]]  # position in the batch, item, its payload


def webhook_request(
    endpoint: WebhookEndpoint, payload: dict[str, Any], now: float
) -> OutgoingRequest:
    """The signed POST of one event to an endpoint; the body is the same on every attempt,
    the signature's timestamp is the attempt's own."""
    body = json.dumps(
        {"type": payload["type"], "timestamp": payload["timestamp"], "data": payload["data"]},
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    keys = [parse_secret(endpoint.secret)]
    if endpoint.old_secret is not None:
        keys.append(parse_secret(endpoint.old_secret))
    signed = signature_headers(keys, str(payload["id"]), int(now), body)
    headers = (("content-type", "application/json"), *signed.items())
    return OutgoingRequest("POST", endpoint.url, headers, body)


class WebhookTransport(HttpTransport):
    """`kind` "webhooks": an endpoint's items in order, reading and healing the endpoint
    through `endpoints`; the rest is the HTTP transports' shell (gateway/http_transport)."""

    kind = WEBHOOKS

    def __init__(
        self,
        sender: Sender,
        endpoints: WebhookEndpoints,
        policy: RetryPolicy | None = None,
        *,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(sender, policy, clock=clock, rand=rand)
        self._endpoints = endpoints

    async def deliver(self, account_id: int, items: Sequence[OutboxItem]) -> Sequence[Outcome]:
        outcomes: list[Outcome] = [Unanswered] * len(items)
        groups: dict[int, list[_Entry]] = {}
        for index, item in enumerate(items):
            try:
                payload = json.loads(item.payload or "")
                endpoint_id = int(payload["endpoint"])
            except (ValueError, KeyError, TypeError) as exc:  # a row no sender can send
                log.error("webhook item %s is unreadable: %s", item.id, exc)
                outcomes[index] = self._dead(item, f"unreadable: {exc}")
                continue
            groups.setdefault(endpoint_id, []).append((index, item, payload))
        await asyncio.gather(*(self._send_in_order(e, g, outcomes) for e, g in groups.items()))
        return outcomes

    async def _send_in_order(
        self, endpoint_id: int, entries: list[_Entry], outcomes: list[Outcome]
    ) -> None:
        """One endpoint's items of the batch, oldest first, until one must wait."""
        endpoint = await self._endpoints.webhook_endpoint(endpoint_id)
        if endpoint is None or not endpoint.enabled:
            why = (
                "the endpoint was removed"
                if endpoint is None
                else f"the endpoint is disabled: {endpoint.disabled_reason}"
            )
            for index, item, _ in entries:
                outcomes[index] = self._dead(item, why)
            return
        if endpoint.blocked_until is not None and endpoint.blocked_until > self._clock():
            return  # behind an item due for a retry: unanswered, they wait
        before = _health(endpoint)
        health = delivery_policy.EndpointHealth(
            endpoint.failing_since, endpoint.disabled_at, endpoint.disabled_reason
        )
        blocked_until: float | None = None
        for position, (index, item, payload) in enumerate(entries):
            try:
                request = webhook_request(endpoint, payload, self._clock())
            except (ValueError, KeyError, TypeError) as exc:
                log.error("webhook item %s cannot be signed: %s", item.id, exc)
                outcomes[index] = self._dead(item, f"cannot be sent: {exc}")
                continue
            attempt = await self._sender.send(request)
            outcome, dead = self._outcome(item, attempt)
            outcomes[index] = outcome
            health = delivery_policy.endpoint_after(self._policy, health, attempt, outcome.at)
            if outcome.retry_at is not None:
                blocked_until = outcome.retry_at
                break
            if dead is not None:
                log.warning(
                    "webhook %s to endpoint %s (%s) is a dead letter: %s",
                    payload.get("id"),
                    endpoint.id,
                    endpoint.url,
                    dead,
                )
            if health.disabled:
                log.warning(
                    "webhook endpoint %s of account %s (%s) is disabled: %s",
                    endpoint.id,
                    endpoint.account_id,
                    endpoint.url,
                    health.disabled_reason,
                )
                why = f"the endpoint is disabled: {health.disabled_reason}"
                for later_index, later, _ in entries[position + 1 :]:
                    outcomes[later_index] = self._dead(later, why)
                break
        after = EndpointHealth(
            health.failing_since, health.disabled_at, health.disabled_reason, blocked_until
        )
        # A new block, or a change of health, is written; a past block left standing after a
        # success is not worth a write on every batch.
        if blocked_until is not None or _state(after) != _state(before):
            await self._endpoints.set_webhook_health(endpoint.id, after)


def _health(endpoint: WebhookEndpoint) -> EndpointHealth:
    return EndpointHealth(
        endpoint.failing_since,
        endpoint.disabled_at,
        endpoint.disabled_reason,
        endpoint.blocked_until,
    )


def _state(health: EndpointHealth) -> tuple[float | None, float | None, str | None]:
    return health.failing_since, health.disabled_at, health.disabled_reason
