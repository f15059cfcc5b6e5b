"""Hot-path reads in one statement and one trip to the driver: the statuses `/sms/status`
asks for, and the SMPP receipts pending for a customer (and which customers have some).

Both run many times a second. Through SQLAlchemy on aiosqlite the same reads cost several
times more CPU than the queries themselves (bench/RESULTS.md, "Status reads at 5M rows", and
"Session 5" for the outbox): compiling the statement anew on every call (expanding IN lists),
one hop to aiosqlite's thread per cursor step (execute, fetch, close, begin), and a Row object
per row. Here each statement is plain driver SQL (plain_sql: padded IN lists on SQLite,
ANY(array) on PostgreSQL) sent on the reader pool's own driver connection with one fetch-all
call.

A read opens no transaction of its own: one statement reads one snapshot on both engines,
which is all either answer needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from smsgate.domain.status import Status
from smsgate.store.plain_sql import PlainSql
from smsgate.store.records import OutboxItem

# A message answers for its own id and for its aliases (the other PDUs' ids of an SMPP
# message sent as several submit_sm); other accounts' ids are not found, like unknown ones.
_statuses = PlainSql(
    "SELECT id, status FROM messages WHERE id = ANY(?) AND account_id = ?"
    " UNION ALL"
    " SELECT a.alias_id, m.status FROM message_aliases a JOIN messages m ON m.id = a.message_id"
    " WHERE a.alias_id = ANY(?) AND m.account_id = ?"
)

# In OutboxItem's field order; a receipt's done_at is the message's, or the row's own time
# for a message refused before it was ever final (held parts).
_outbox_pending = PlainSql(
    "SELECT o.id, o.account_id, o.message_id, o.pdu_id, o.status, o.error, m.phone, m.sender,"
    " m.text, m.parts, m.created_at, COALESCE(m.done_at, o.created_at), o.attempts"
    " FROM outbox o JOIN messages m ON m.id = o.message_id"
    " WHERE o.account_id = ? AND o.delivered_at IS NULL ORDER BY o.id LIMIT ?"
)

# The pump asks this every 100 ms; the partial index of pending rows answers it.
_outbox_accounts = PlainSql(
    "SELECT DISTINCT account_id FROM outbox WHERE delivered_at IS NULL ORDER BY account_id"
)

_STATUS = {status.value: status for status in Status}  # cheaper than Status(text) per row


async def fetch(reader: AsyncEngine, statement: PlainSql, *params: Any) -> Sequence[Any]:
    """Every row of `statement`, as tuples (PostgreSQL: tuple-like Records)."""
    async with reader.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None  # None only once the connection is closed
        if isinstance(driver, aiosqlite.Connection):
            sql, flat = statement.sqlite(*params)
            return list(await driver.execute_fetchall(sql, flat))
        # asyncpg (untyped): the engines module admits no other driver
        rows: Sequence[Any] = await driver.fetch(statement.postgresql, *params)
        return rows


async def read_statuses(
    reader: AsyncEngine, account_id: int, ids: Sequence[int]
) -> dict[int, Status]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await fetch(reader, _statuses, wanted, account_id, wanted, account_id)
    return {row[0]: _STATUS[row[1]] for row in rows}


async def read_outbox_pending(reader: AsyncEngine, account_id: int, limit: int) -> list[OutboxItem]:
    """An account's undelivered receipts, oldest first."""
    rows = await fetch(reader, _outbox_pending, account_id, limit)
    status = _STATUS
    # By position, in the fields' order: rows of 13 columns, hundreds a second.
    return [OutboxItem(r[0], r[1], r[2], r[3], status[r[4]], *r[5:13]) for r in rows]


async def read_outbox_accounts(reader: AsyncEngine) -> list[int]:
    """The accounts with undelivered receipts."""
    return [row[0] for row in await fetch(reader, _outbox_accounts)]
