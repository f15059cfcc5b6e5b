"""Hot-path reads in one statement and one trip to the driver: the statuses `/sms/status`
asks for, the outbox's pending items (and which accounts have some), the event log.

They run many times a second. Through SQLAlchemy on aiosqlite the same reads cost several
times more CPU than the queries themselves (bench/status_read.py; bench/smpp_door.py for the
outbox): compiling the statement anew on every call (expanding IN lists),
one hop to aiosqlite's thread per cursor step (execute, fetch, close, begin), and a Row object
per row. Here each statement is plain driver SQL (plain_sql: padded IN lists on SQLite,
ANY(array) on PostgreSQL) with one fetch-all call: on SQLite on the caller's thread
(direct_reads.py) when SQLite answers at once, else on the reader pool's own driver
connection.

A read opens no transaction of its own: one statement reads one snapshot on both engines,
which is all either answer needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite

from smsgate.domain.status import Status
from smsgate.store.engine import Engines
from smsgate.store.plain_sql import PlainSql
from smsgate.store.records import OutboxItem
from smsgate.store.statements import outbox_accounts, outbox_pending, statuses

_STATUS = {status.value: status for status in Status}  # cheaper than Status(text) per row


async def fetch(engines: Engines, statement: PlainSql, *params: Any) -> Sequence[Any]:
    """Every row of `statement`, as tuples (PostgreSQL: tuple-like Records)."""
    if engines.direct is not None:
        sql, flat = statement.sqlite(*params)
        answered = engines.direct.rows(sql, flat)
        if answered is not None:
            return answered
    async with engines.reader.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None  # None only once the connection is closed
        if isinstance(driver, aiosqlite.Connection):
            sql, flat = statement.sqlite(*params)
            return list(await driver.execute_fetchall(sql, flat))
        # asyncpg (untyped): the engines module admits no other driver
        rows: Sequence[Any] = await driver.fetch(statement.postgresql, *params)
        return rows


async def read_statuses(engines: Engines, account_id: int, ids: Sequence[int]) -> dict[int, Status]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await fetch(engines, statuses, *(wanted, account_id) * 3)
    return {row[0]: _STATUS[row[1]] for row in rows}


async def read_outbox_pending(
    engines: Engines, kind: str, account_id: int, limit: int, now: float, after: int = 0
) -> list[OutboxItem]:
    """An account's undelivered items of a kind that are due at `now`, oldest first, with ids
    above `after`."""
    rows = await fetch(engines, outbox_pending, kind, account_id, after, now, limit)
    status = _STATUS
    # By position, in the fields' order: rows of 16 columns, hundreds a second.
    return [
        OutboxItem(r[0], r[1], r[2], r[3], None if r[4] is None else status[r[4]], *r[5:16])
        for r in rows
    ]


async def read_outbox_accounts(engines: Engines, kind: str, now: float) -> list[int]:
    """The accounts with undelivered items of a kind due at `now`."""
    return [row[0] for row in await fetch(engines, outbox_accounts, kind, now)]
