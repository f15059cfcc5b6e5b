"""Webhook endpoints and dead letters in memory: the WebhookEndpoints and DeadLetters roles of
MemoryStore, with the SQL store's semantics (sql_webhooks.py)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any

from smsgate.store.interface import StoreError
from smsgate.store.memory.state import MemoryBase
from smsgate.store.records import CALLBACKS, DeadLetter, Delivery, EndpointHealth, WebhookEndpoint


class MemoryWebhooks(MemoryBase):
    async def add_webhook_endpoint(
        self, account_id: int, url: str, event_types: Sequence[str], secret: str, at: float
    ) -> WebhookEndpoint:
        await asyncio.sleep(0)
        if account_id not in self.state.accounts:
            raise StoreError(f"no account {account_id}")
        endpoint = WebhookEndpoint(
            next(self.state.webhook_endpoint_ids),
            account_id,
            url,
            tuple(event_types),
            secret,
            None,
            at,
        )
        self.state.webhook_endpoints[endpoint.id] = endpoint
        return endpoint

    async def webhook_endpoint(self, endpoint_id: int) -> WebhookEndpoint | None:
        await asyncio.sleep(0)
        return self.state.webhook_endpoints.get(endpoint_id)

    async def webhook_endpoints(self, account_id: int | None = None) -> list[WebhookEndpoint]:
        await asyncio.sleep(0)
        return [
            e
            for e in self.state.webhook_endpoints.values()
            if account_id is None or e.account_id == account_id
        ]

    async def remove_webhook_endpoint(self, endpoint_id: int) -> bool:
        await asyncio.sleep(0)
        return self.state.webhook_endpoints.pop(endpoint_id, None) is not None

    async def set_webhook_secrets(
        self, endpoint_id: int, secret: str, old_secret: str | None
    ) -> bool:
        await asyncio.sleep(0)
        return self._replace(endpoint_id, secret=secret, old_secret=old_secret)

    async def set_webhook_health(self, endpoint_id: int, health: EndpointHealth) -> bool:
        await asyncio.sleep(0)
        return self._replace(
            endpoint_id,
            failing_since=health.failing_since,
            disabled_at=health.disabled_at,
            disabled_reason=health.disabled_reason,
            blocked_until=health.blocked_until,
        )

    def _replace(self, endpoint_id: int, **changes: Any) -> bool:
        endpoint = self.state.webhook_endpoints.get(endpoint_id)
        if endpoint is None:
            return False
        self.state.webhook_endpoints[endpoint_id] = dataclasses.replace(endpoint, **changes)
        return True

    async def dead_letters(
        self, kind: str, account_id: int | None = None, limit: int = 100
    ) -> list[DeadLetter]:
        await asyncio.sleep(0)
        found: list[DeadLetter] = []
        for row in self.state.outbox.values():
            if row.kind != kind or row.dead_at is None:
                continue
            if account_id is not None and row.account_id != account_id:
                continue
            found.append(
                DeadLetter(
                    row.id,
                    row.account_id,
                    row.kind,
                    row.payload,
                    row.created_at,
                    row.dead_at,
                    row.attempts,
                    row.last_error,
                    row.message_id,
                    None if row.status is None else row.status.value,
                )
            )
            if len(found) >= limit:
                break
        return found

    async def callback_deliveries(self, account_id: int, message_id: int) -> list[Delivery]:
        await asyncio.sleep(0)
        return [
            Delivery(
                row.id,
                row.kind,
                None if row.status is None else row.status.value,
                row.payload,
                row.created_at,
                row.delivered_at,
                row.dead_at,
                row.attempts,
                row.last_error,
            )
            for row in sorted(self.state.outbox.values(), key=lambda row: row.id)
            if row.kind == CALLBACKS
            and row.message_id == message_id
            and row.account_id == account_id
        ]

    async def redeliver(self, kind: str, item_ids: Sequence[int], at: float) -> list[int]:
        await asyncio.sleep(0)
        done: list[int] = []
        for item_id in sorted(set(item_ids)):
            row = self.state.outbox.get(item_id)
            if row is None or row.kind != kind or row.dead_at is None:
                continue
            row.dead_at = None
            self._queue_item(
                row.account_id, row.kind, row.message_id, row.status, row.error, row.payload, at
            )
            done.append(item_id)
        return done
