"""Statuses of many message ids in one statement and one trip to the driver.

`/sms/status` asks for up to a hundred ids at a time, on stores with millions of messages. The
database answers that in a few hundred µs (primary-key lookups); through SQLAlchemy on
aiosqlite the same read cost several times more CPU than the query itself (bench/RESULTS.md,
"Status reads at 5M rows"): compiling the two expanding IN lists anew on every call, and one
hop to aiosqlite's thread per cursor step (execute, fetch, close, begin). Here the statement is
plain driver SQL (plain_sql: padded IN lists on SQLite, ANY(array) on PostgreSQL) sent on the
reader pool's own driver connection with one fetch-all call.

The read opens no transaction of its own: one statement reads one snapshot on both engines,
which is all a status answer needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from smsgate.domain.status import Status
from smsgate.store.plain_sql import PlainSql

# A message answers for its own id and for its aliases (the other PDUs' ids of an SMPP
# message sent as several submit_sm); other accounts' ids are not found, like unknown ones.
_statuses = PlainSql(
    "SELECT id, status FROM messages WHERE id = ANY(?) AND account_id = ?"
    " UNION ALL"
    " SELECT a.alias_id, m.status FROM message_aliases a JOIN messages m ON m.id = a.message_id"
    " WHERE a.alias_id = ANY(?) AND m.account_id = ?"
)

_STATUS = {status.value: status for status in Status}  # cheaper than Status(text) per row


async def read_statuses(
    reader: AsyncEngine, account_id: int, ids: Sequence[int]
) -> dict[int, Status]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    async with reader.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None  # None only once the connection is closed
        if isinstance(driver, aiosqlite.Connection):
            sql, flat = _statuses.sqlite(wanted, account_id, wanted, account_id)
            rows: Sequence[Any] = list(await driver.execute_fetchall(sql, flat))
        else:  # asyncpg (untyped): the engines module admits no other driver
            rows = await driver.fetch(_statuses.postgresql, wanted, account_id, wanted, account_id)
    return {row[0]: _STATUS[row[1]] for row in rows}
