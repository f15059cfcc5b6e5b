"""Inbound SMS and suppression lists on SQLAlchemy Core: numbers owned by accounts, inbound
messages stored with the opt-outs they ask for and their outbox items in one transaction, and
the lists the submit path reads. Off the send path: an inbound SMS or an admin command per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, select

from smsgate.store import events
from smsgate.store.events import EventRow
from smsgate.store.inbound_items import inbound_event, inbound_item, inbound_log_row
from smsgate.store.interface import StoreError
from smsgate.store.records import (
    InboundRecord,
    KeptInboundPart,
    NewInbound,
    NewOutboxItem,
    NumberRoute,
    Suppression,
)
from smsgate.store.schema import (
    accounts,
    inbound_messages,
    inbound_numbers,
    inbound_parts,
    suppressions,
)
from smsgate.store.sql_base import SqlBase, outbox_row
from smsgate.store.statements import queue_outbox_item
from smsgate.store.upsert import insert_for
from smsgate.store.webhook_events import WebhookEvent, queue_webhooks

_INBOUND = inbound_messages.c
# KeptInboundPart's fields after its id, in order: the columns of inbound_parts.
_PART_COLUMNS = (
    "node_id", "connector", "source", "source_ton", "destination", "ref", "total", "seq",
    "sixteen_bit", "data_coding", "payload", "received_at",
)  # fmt: skip


def _inbound(row: Any) -> InboundRecord:
    return InboundRecord(
        id=row.id,
        account_id=row.account_id,
        source=row.source,
        destination=row.destination,
        text=row.text,
        data_coding=row.data_coding,
        parts=row.parts,
        total=row.total,
        connector=row.connector,
        received_at=row.received_at,
        keyword=row.keyword,
        reason=row.reason,
    )


def _account_exists(conn: Connection, account_id: int) -> None:
    if conn.scalar(select(accounts.c.id).where(accounts.c.id == account_id)) is None:
        raise StoreError(f"unknown account {account_id}")


class SqlInbound(SqlBase):
    """The Inbound and Suppressions roles (store/roles.py) of SqlStore."""

    async def add_number(self, route: NumberRoute) -> None:
        def work(conn: Connection) -> None:
            _account_exists(conn, route.account_id)
            owner = conn.scalar(
                select(inbound_numbers.c.account_id).where(
                    inbound_numbers.c.number == route.number,
                    inbound_numbers.c.keyword == route.keyword,
                )
            )
            if owner is not None and owner != route.account_id:
                what = f"keyword {route.keyword!r} on number" if route.keyword else "number"
                raise StoreError(f"{what} {route.number} already belongs to account {owner}")
            if owner is None:
                conn.execute(
                    inbound_numbers.insert().values(
                        number=route.number, keyword=route.keyword, account_id=route.account_id
                    )
                )

        await self._write(work)

    async def remove_number(self, number: str, keyword: str = "") -> bool:
        def work(conn: Connection) -> bool:
            result = conn.execute(
                delete(inbound_numbers).where(
                    inbound_numbers.c.number == number, inbound_numbers.c.keyword == keyword
                )
            )
            return bool(result.rowcount)

        return await self._write(work)

    async def number_routes(self) -> list[NumberRoute]:
        async with self._read() as conn:
            rows = await conn.execute(
                select(inbound_numbers).order_by(
                    inbound_numbers.c.number, inbound_numbers.c.keyword
                )
            )
            return [NumberRoute(r.number, r.account_id, r.keyword) for r in rows]

    async def store_inbound(
        self, messages: Sequence[NewInbound], release: Sequence[int] = ()
    ) -> list[int]:
        def work(conn: Connection) -> list[int]:
            if release:  # the parts these messages were joined from: stored once, here
                conn.execute(delete(inbound_parts).where(inbound_parts.c.id.in_(sorted(release))))
            ids: list[int] = []
            items: list[NewOutboxItem] = []
            logged: list[EventRow] = []
            hooks: list[WebhookEvent] = []
            for m in messages:
                ids.append(
                    conn.execute(
                        inbound_messages.insert()
                        .values(
                            account_id=m.account_id,
                            source=m.source,
                            destination=m.destination,
                            text=m.text,
                            data_coding=m.data_coding,
                            parts=m.parts,
                            total=m.total,
                            keyword=m.keyword,
                            reason=m.reason,
                            connector=m.connector,
                            received_at=m.received_at,
                        )
                        .returning(_INBOUND.id)
                    ).scalar_one()
                )
                item = inbound_item(ids[-1], m)
                if item is not None:
                    items.append(item)
                row = inbound_log_row(ids[-1], m)
                if row is not None:
                    logged.append(row)
                hook = inbound_event(ids[-1], m)
                if hook is not None:
                    hooks.append(hook)
                if m.account_id is None or not m.opt:
                    continue
                if m.opt == "out":
                    _suppress(conn, m.account_id, m.source, "sms", m.received_at)
                else:
                    _unsuppress(conn, m.account_id, m.source)
            # Told to the account's binds and webhook endpoints by the outbox, and logged,
            # in this transaction: stored if and only if all of them are.
            if items:
                queue_outbox_item.run(conn, [outbox_row(i) for i in items])
            events.append(conn, logged)
            queue_webhooks(conn, hooks)
            return ids

        return await self._write(work)

    async def keep_inbound_part(self, part: KeptInboundPart) -> int | None:
        values = {name: getattr(part, name) for name in _PART_COLUMNS}

        def work(conn: Connection) -> int | None:
            kept: int | None = conn.execute(
                insert_for(conn, inbound_parts)
                .values(**values)
                .on_conflict_do_nothing()
                .returning(inbound_parts.c.id)
            ).scalar_one_or_none()
            return kept

        return await self._write(work)

    async def kept_inbound_parts(self, node_id: int) -> list[KeptInboundPart]:
        async with self._read() as conn:
            rows = await conn.execute(
                select(inbound_parts)
                .where(inbound_parts.c.node_id == node_id)
                .order_by(inbound_parts.c.id)
            )
            return [
                KeptInboundPart(r.id, *(getattr(r, name) for name in _PART_COLUMNS)) for r in rows
            ]

    async def inbound_after(self, account_id: int, after: int, limit: int) -> list[InboundRecord]:
        async with self._read() as conn:
            rows = await conn.execute(
                select(inbound_messages)
                .where(_INBOUND.account_id == account_id, _INBOUND.id > after)
                .order_by(_INBOUND.id)
                .limit(limit)
            )
            return [_inbound(r) for r in rows]

    async def unroutable(self, after: int, limit: int) -> list[InboundRecord]:
        async with self._read() as conn:
            rows = await conn.execute(
                select(inbound_messages)
                .where(_INBOUND.account_id.is_(None), _INBOUND.id > after)
                .order_by(_INBOUND.id)
                .limit(limit)
            )
            return [_inbound(r) for r in rows]

    async def suppress(self, account_id: int, phone: str, source: str, at: float) -> bool:
        def work(conn: Connection) -> bool:
            _account_exists(conn, account_id)
            return _suppress(conn, account_id, phone, source, at)

        return await self._write(work)

    async def unsuppress(self, account_id: int, phone: str) -> bool:
        return await self._write(lambda conn: _unsuppress(conn, account_id, phone))

    async def suppressions(self, account_id: int) -> list[Suppression]:
        async with self._read() as conn:
            rows = await conn.execute(
                select(suppressions)
                .where(suppressions.c.account_id == account_id)
                .order_by(suppressions.c.phone)
            )
            return [Suppression(r.account_id, r.phone, r.source, r.created_at) for r in rows]


def _suppress(conn: Connection, account_id: int, phone: str, source: str, at: float) -> bool:
    result = conn.execute(
        insert_for(conn, suppressions)
        .values(account_id=account_id, phone=phone, source=source, created_at=at)
        .on_conflict_do_nothing()
    )
    return bool(result.rowcount)


def _unsuppress(conn: Connection, account_id: int, phone: str) -> bool:
    result = conn.execute(
        delete(suppressions).where(
            suppressions.c.account_id == account_id, suppressions.c.phone == phone
        )
    )
    return bool(result.rowcount)
