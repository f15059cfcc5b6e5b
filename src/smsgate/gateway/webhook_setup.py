"""An account's own webhook endpoints, as it manages them through the native API: add (with a
new signing secret, shown once), list, read, remove, rotate the secret, enable again after a
day of failures, and see and redeliver the deliveries given up.

The same rules as `smsgate admin webhooks` (the operator's side): a URL is checked before it
is stored (http(s), no loopback or private address, a name by what it resolves to, unless
`[callbacks] allow_private`), at most two secrets sign at once, a dead letter of a disabled
endpoint is not redelivered. Every call is scoped to the account: another account's endpoint
or dead letter is not found.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from smsgate.gateway.errors import GatewayError, InvalidRequest
from smsgate.immutable import record
from smsgate.store.records import (
    MESSAGE_STATUS,
    WEBHOOK_EVENT_TYPES,
    WEBHOOKS,
    DeadLetter,
    EndpointHealth,
    WebhookEndpoint,
)
from smsgate.store.roles import DeadLetters, WebhookEndpoints
from smsgate.webhooks.safe_transport import check_endpoint_url
from smsgate.webhooks.signing import BadWebhookSecret, new_secret, parse_secret
from smsgate.webhooks.url_safety import UnsafeUrl

MAX_ENDPOINTS = 20  # per account: each event is signed and sent once per endpoint
MAX_DEAD_LETTERS = 1000  # in one answer, and in one redelivery of "all"


class WebhookConflict(GatewayError):
    """The endpoint is not in a state that allows this (already rotating, not rotating,
    disabled, or the account has as many endpoints as it may)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WebhookStore(WebhookEndpoints, DeadLetters, Protocol):
    """The store roles webhook management calls."""


@record
class FailedWebhook:
    """A delivery given up after its retries: which endpoint and event, why it failed."""

    id: int
    endpoint_id: int | None
    webhook_id: str | None  # the event's webhook-id header, kept on redelivery
    type: str | None
    created_at: float
    dead_at: float
    attempts: int
    last_error: str | None


class WebhookSetup:
    def __init__(
        self,
        store: WebhookStore,
        *,
        allow_private: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._allow_private = allow_private
        self._clock = clock

    async def endpoints(self, account_id: int) -> list[WebhookEndpoint]:
        return await self._store.webhook_endpoints(account_id)

    async def endpoint(self, account_id: int, endpoint_id: int) -> WebhookEndpoint | None:
        found = await self._store.webhook_endpoint(endpoint_id)
        return found if found is not None and found.account_id == account_id else None

    async def add(
        self, account_id: int, url: str, events: Sequence[str] | None, secret: str | None
    ) -> WebhookEndpoint:
        """The new endpoint, with its secret (given, or a new one)."""
        chosen = list(dict.fromkeys(events or [MESSAGE_STATUS]))
        unknown = [e for e in chosen if e not in WEBHOOK_EVENT_TYPES]
        if unknown:
            known = ", ".join(WEBHOOK_EVENT_TYPES)
            raise InvalidRequest("events", f"Unknown event type {unknown[0]!r}; known: {known}")
        try:
            await check_endpoint_url(url, allow_private=self._allow_private)
        except UnsafeUrl as exc:
            raise InvalidRequest("url", str(exc)) from None
        try:
            key = new_secret() if secret is None else parse_secret(secret)
        except BadWebhookSecret as exc:
            raise InvalidRequest("secret", str(exc)) from None
        if len(await self._store.webhook_endpoints(account_id)) >= MAX_ENDPOINTS:
            raise WebhookConflict(f"An account has at most {MAX_ENDPOINTS} webhook endpoints.")
        return await self._store.add_webhook_endpoint(
            account_id, url, chosen, key.text, self._clock()
        )

    async def remove(self, account_id: int, endpoint_id: int) -> bool:
        if await self.endpoint(account_id, endpoint_id) is None:
            return False
        return await self._store.remove_webhook_endpoint(endpoint_id)

    async def rotate(self, account_id: int, endpoint_id: int) -> WebhookEndpoint | None:
        """Sign with a new secret and, until the rotation is finished, with the old one too,
        so the receiver switches without missing an event. The endpoint with its new secret."""
        endpoint = await self.endpoint(account_id, endpoint_id)
        if endpoint is None:
            return None
        if endpoint.old_secret is not None:
            raise WebhookConflict(
                "This endpoint's secret is being rotated already; finish that rotation first "
                "(at most two secrets sign at once)."
            )
        fresh = new_secret().text
        await self._store.set_webhook_secrets(endpoint_id, fresh, endpoint.secret)
        return await self.endpoint(account_id, endpoint_id)

    async def finish_rotation(self, account_id: int, endpoint_id: int) -> WebhookEndpoint | None:
        endpoint = await self.endpoint(account_id, endpoint_id)
        if endpoint is None:
            return None
        if endpoint.old_secret is None:
            raise WebhookConflict("This endpoint's secret is not being rotated.")
        await self._store.set_webhook_secrets(endpoint_id, endpoint.secret, None)
        return await self.endpoint(account_id, endpoint_id)

    async def enable(self, account_id: int, endpoint_id: int) -> WebhookEndpoint | None:
        """Enabled again, its failures forgotten (it was disabled after a day of them)."""
        if await self.endpoint(account_id, endpoint_id) is None:
            return None
        await self._store.set_webhook_health(endpoint_id, EndpointHealth(None, None, None, None))
        return await self.endpoint(account_id, endpoint_id)

    async def failed(self, account_id: int, limit: int = 100) -> list[FailedWebhook]:
        """Deliveries given up, oldest first."""
        letters = await self._store.dead_letters(WEBHOOKS, account_id, limit)
        return [_failed(letter) for letter in letters]

    async def redeliver(self, account_id: int, ids: Sequence[int] | None) -> list[int]:
        """Send these dead letters (every one when None) again, each with its webhook-id, from
        a fresh 24 h of retries; the ids queued again (ids not of this account's dead letters
        are left out)."""
        dead = await self.failed(account_id, MAX_DEAD_LETTERS)
        letters = {f.id: f for f in dead if ids is None or f.id in ids}
        for letter in letters.values():
            if letter.endpoint_id is None:
                continue
            endpoint = await self.endpoint(account_id, letter.endpoint_id)
            if endpoint is not None and not endpoint.enabled:
                raise WebhookConflict(
                    f"Webhook endpoint {endpoint.id} is disabled; enable it first, then redeliver."
                )
        wanted = [i for i in dict.fromkeys(letters if ids is None else ids) if i in letters]
        if not wanted:
            return []
        return await self._store.redeliver(WEBHOOKS, wanted, self._clock())


def _failed(letter: DeadLetter) -> FailedWebhook:
    try:
        payload = json.loads(letter.payload or "")
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    endpoint = payload.get("endpoint")
    webhook_id = payload.get("id")
    kind = payload.get("type")
    return FailedWebhook(
        id=letter.item_id,
        endpoint_id=endpoint if isinstance(endpoint, int) else None,
        webhook_id=webhook_id if isinstance(webhook_id, str) else None,
        type=kind if isinstance(kind, str) else None,
        created_at=letter.created_at,
        dead_at=letter.dead_at,
        attempts=letter.attempts,
        last_error=letter.last_error,
    )
