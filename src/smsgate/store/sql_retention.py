"""The Retention role on SQL: erasing old messages' texts, then deleting their rows, in
batches of `limit` messages per transaction so a sweep never holds the writer for long; the
same two steps for inbound SMS.

It touches only finished messages (done_at set) and never the accounts' money columns; the
charges of the messages it deletes are folded into the ledger first (store/ledger.py).
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from smsgate.store.ledger import carry_forward
from smsgate.store.schema import (
    accounts,
    events,
    inbound_messages,
    message_aliases,
    message_callbacks,
    messages,
    outbox,
    outbox_attempts,
    parts,
    receipt_requests,
)
from smsgate.store.sql_base import SqlBase
from smsgate.store.traffic_hours import HourCounts


class SqlRetention(SqlBase):
    async def erase_texts(self, before: float, limit: int) -> int:
        def work(conn: Connection) -> int:
            ids = list(
                conn.scalars(
                    select(messages.c.id)
                    .where(
                        messages.c.created_at < before,
                        messages.c.done_at.is_not(None),
                        messages.c.text != "",
                    )
                    .limit(limit)
                )
            )
            if ids:
                conn.execute(update(messages).where(messages.c.id.in_(ids)).values(text=""))
                conn.execute(update(parts).where(parts.c.message_id.in_(ids)).values(payload=b""))
            return len(ids)

        return await self._write(work)

    async def delete_messages(self, before: float, limit: int) -> int:
        def work(conn: Connection) -> int:
            ids = list(
                conn.scalars(
                    select(messages.c.id)
                    .where(messages.c.created_at < before, messages.c.done_at.is_not(None))
                    .limit(limit)
                )
            )
            if ids:
                carry_forward(conn, ids)  # their charges stay in the ledger
                # The attempts logged for the messages' callbacks go before their outbox rows.
                sent = select(outbox.c.id).where(outbox.c.message_id.in_(ids))
                conn.execute(delete(outbox_attempts).where(outbox_attempts.c.outbox_id.in_(sent)))
                for table in (parts, message_aliases, receipt_requests, message_callbacks, outbox):
                    conn.execute(delete(table).where(table.c.message_id.in_(ids)))
                gone = conn.execute(
                    delete(messages)
                    .where(messages.c.id.in_(ids))
                    .returning(messages.c.account_id, messages.c.created_at, messages.c.status)
                )
                traffic = HourCounts()
                for account_id, created_at, status in gone:
                    traffic.deleted(account_id, created_at, status)
                traffic.write(conn)  # last (traffic_hours.py says why)
            return len(ids)

        return await self._write(work)

    async def erase_inbound_texts(self, before: float, limit: int) -> int:
        def work(conn: Connection) -> int:
            ids = list(
                conn.scalars(
                    select(inbound_messages.c.id)
                    .where(inbound_messages.c.received_at < before, inbound_messages.c.text != "")
                    .limit(limit)
                )
            )
            if ids:
                conn.execute(
                    update(inbound_messages).where(inbound_messages.c.id.in_(ids)).values(text="")
                )
            return len(ids)

        return await self._write(work)

    async def delete_inbound(self, before: float, limit: int) -> int:
        def work(conn: Connection) -> int:
            # The newest row stays (its text erased): SQLite's next id is the highest one + 1,
            # and a deleted highest id would be handed out again, under a client's cursor.
            newest = select(func.max(inbound_messages.c.id)).scalar_subquery()
            ids = list(
                conn.scalars(
                    select(inbound_messages.c.id)
                    .where(inbound_messages.c.received_at < before, inbound_messages.c.id < newest)
                    .limit(limit)
                )
            )
            if ids:
                conn.execute(delete(inbound_messages).where(inbound_messages.c.id.in_(ids)))
            return len(ids)

        return await self._write(work)

    async def delete_settled_outbox(self, before: float, limit: int) -> int:
        def work(conn: Connection) -> int:
            ids = list(
                conn.scalars(
                    select(outbox.c.id)
                    .where(outbox.c.message_id.is_(None), outbox.c.delivered_at < before)
                    .limit(limit)
                )
            )
            if ids:
                conn.execute(delete(outbox_attempts).where(outbox_attempts.c.outbox_id.in_(ids)))
                conn.execute(delete(outbox).where(outbox.c.id.in_(ids)))
            return len(ids)

        return await self._write(work)

    async def delete_events(self, before: float, limit: int) -> int:
        # Found on the reader, deleted in one write: the writer is held for the deletes only.
        # events' key is (account_id, seq) and an account's events come in time order, so its
        # old ones are the start of its range: read from its first seq, stop at a newer one.
        ranges: list[tuple[int, int]] = []  # (account_id, last seq to delete)
        found = 0
        async with self._read() as conn:
            ids = (
                await conn.scalars(
                    select(accounts.c.id).where(accounts.c.event_seq > 0).order_by(accounts.c.id)
                )
            ).all()
            for account_id in ids:
                last, count = await _old_start(conn, account_id, before, limit - found)
                if last is not None:
                    ranges.append((account_id, last))
                    found += count
                if found >= limit:
                    break
        if not ranges:
            return 0

        def work(conn: Connection) -> int:
            gone = 0
            for account_id, last in ranges:
                result = conn.execute(
                    delete(events).where(events.c.account_id == account_id, events.c.seq <= last)
                )
                gone += int(result.rowcount)
            return gone

        return await self._write(work)


async def _old_start(
    conn: AsyncConnection, account_id: int, before: float, most: int
) -> tuple[int | None, int]:
    """The last seq of the account's events before `before` counted from its first (at most
    `most` of them), and how many: read in pages growing from one row, so an account whose
    oldest event is recent costs one row."""
    last, count, page = None, 0, 1
    while count < most:
        want = min(page, most - count)
        rows = (
            await conn.execute(
                select(events.c.seq, events.c.at)
                .where(events.c.account_id == account_id, events.c.seq > (last or 0))
                .order_by(events.c.seq)
                .limit(want)
            )
        ).all()
        for seq, at in rows:
            if at >= before:
                return last, count
            last, count = seq, count + 1
        if len(rows) < want:
            break
        page = min(page * 16, 4096)
    return last, count
