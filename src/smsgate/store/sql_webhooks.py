"""Webhook endpoints and dead letters on SQLAlchemy Core: the WebhookEndpoints and DeadLetters
roles of SqlStore. Cold paths (an admin command, the webhook transport's look at an endpoint
once per batch); the fan-out on the hot path is webhook_events.queue_webhooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, select, text, update

from smsgate.store.interface import StoreError
from smsgate.store.records import CALLBACKS, DeadLetter, Delivery, EndpointHealth, WebhookEndpoint
from smsgate.store.schema import accounts, outbox, webhook_endpoints
from smsgate.store.sql_base import SqlBase
from smsgate.store.statements import queue_outbox_item

_E = webhook_endpoints.c


def _endpoint(row: Any) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row.id,
        account_id=row.account_id,
        url=row.url,
        event_types=tuple(row.event_types.split()),
        secret=row.secret,
        old_secret=row.old_secret,
        created_at=row.created_at,
        failing_since=row.failing_since,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
        blocked_until=row.blocked_until,
    )


class SqlWebhooks(SqlBase):
    """The WebhookEndpoints and DeadLetters roles (store/roles.py) of SqlStore."""

    async def add_webhook_endpoint(
        self, account_id: int, url: str, event_types: Sequence[str], secret: str, at: float
    ) -> WebhookEndpoint:
        def work(conn: Connection) -> WebhookEndpoint:
            if conn.scalar(select(accounts.c.id).where(accounts.c.id == account_id)) is None:
                raise StoreError(f"no account {account_id}")
            row = conn.execute(
                webhook_endpoints.insert()
                .values(
                    account_id=account_id,
                    url=url,
                    event_types=" ".join(event_types),
                    secret=secret,
                    created_at=at,
                )
                .returning(*webhook_endpoints.c)
            ).one()
            return _endpoint(row)

        return await self._write(work)

    async def webhook_endpoint(self, endpoint_id: int) -> WebhookEndpoint | None:
        async with self._read() as conn:
            row = (
                await conn.execute(select(webhook_endpoints).where(_E.id == endpoint_id))
            ).one_or_none()
        return None if row is None else _endpoint(row)

    async def webhook_endpoints(self, account_id: int | None = None) -> list[WebhookEndpoint]:
        query = select(webhook_endpoints).order_by(_E.id)
        if account_id is not None:
            query = query.where(_E.account_id == account_id)
        async with self._read() as conn:
            return [_endpoint(row) for row in await conn.execute(query)]

    async def remove_webhook_endpoint(self, endpoint_id: int) -> bool:
        def work(conn: Connection) -> bool:
            return conn.execute(delete(webhook_endpoints).where(_E.id == endpoint_id)).rowcount > 0

        return await self._write(work)

    async def _update(self, endpoint_id: int, **values: Any) -> bool:
        def work(conn: Connection) -> bool:
            changed = conn.execute(
                update(webhook_endpoints).where(_E.id == endpoint_id).values(**values)
            )
            return changed.rowcount > 0

        return await self._write(work)

    async def set_webhook_secrets(
        self, endpoint_id: int, secret: str, old_secret: str | None
    ) -> bool:
        return await self._update(endpoint_id, secret=secret, old_secret=old_secret)

    async def set_webhook_health(self, endpoint_id: int, health: EndpointHealth) -> bool:
        return await self._update(
            endpoint_id,
            failing_since=health.failing_since,
            disabled_at=health.disabled_at,
            disabled_reason=health.disabled_reason,
            blocked_until=health.blocked_until,
        )

    async def dead_letters(
        self, kind: str, account_id: int | None = None, limit: int = 100
    ) -> list[DeadLetter]:
        c = outbox.c
        query = (
            select(
                c.id,
                c.account_id,
                c.kind,
                c.payload,
                c.created_at,
                c.dead_at,
                c.attempts,
                c.last_error,
                c.message_id,
                c.status,
            )
            .where(c.kind == kind, c.dead_at.is_not(None))
            .order_by(c.id)
            .limit(limit)
        )
        if account_id is not None:
            query = query.where(c.account_id == account_id)
        async with self._read() as conn:
            return [
                DeadLetter(*row[:8], message_id=row.message_id, status=row.status)
                for row in await conn.execute(query)
            ]

    async def callback_deliveries(self, account_id: int, message_id: int) -> list[Delivery]:
        c = outbox.c
        query = (
            select(
                c.id,
                c.kind,
                c.status,
                c.payload,
                c.created_at,
                c.delivered_at,
                c.dead_at,
                c.attempts,
                c.last_error,
            )
            # The kind as a literal: only then may SQLite use the partial index on it.
            .where(c.message_id == message_id, text(f"outbox.kind = '{CALLBACKS}'"))
            .where(c.account_id == account_id)
            .order_by(c.id)
        )
        async with self._read() as conn:
            return [Delivery(*row) for row in (await conn.execute(query)).all()]

    async def redeliver(self, kind: str, item_ids: Sequence[int], at: float) -> list[int]:
        c = outbox.c

        def work(conn: Connection) -> list[int]:
            rows = conn.execute(
                select(c.id, c.account_id, c.message_id, c.status, c.error, c.payload)
                .where(c.id.in_(sorted(set(item_ids))), c.kind == kind, c.dead_at.is_not(None))
                .order_by(c.id)
            ).all()
            if not rows:
                return []
            conn.execute(update(outbox).where(c.id.in_([r.id for r in rows])).values(dead_at=None))
            queue_outbox_item.run(
                conn,
                [
                    (r.account_id, kind, r.message_id, r.status, r.error, r.payload, at, None)
                    for r in rows
                ],
            )
            return [r.id for r in rows]

        return await self._write(work)
