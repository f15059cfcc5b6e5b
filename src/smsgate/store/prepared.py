"""Bulk INSERTs for the hot paths (accepts, outbox items and their attempts), one plain driver
statement per table run with tuples: SQLAlchemy's per-row parameter processing cost more than
SQLite's own insert work (see bench/RESULTS.md "Store"). Only for columns whose Python values
the drivers take as they are (int, float, str, bytes, None).

SQLite gets multi-row `VALUES (…), (…)` statements instead of executemany: one statement step
per few hundred rows instead of one per row (each step a statement reset and a GIL release and
re-take): ~20 % less writer CPU per row measured. Chunks are powers of two, so a handful of
statement texts serve every batch size and stay in the driver's statement cache. PostgreSQL
keeps asyncpg's executemany, which already pipelines one prepared statement.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.exc import IntegrityError

from smsgate.store.plain_sql import PlainSql, driver_of

# SQLite's default limit of bound variables per statement is 32,766 (since 3.32).
_MAX_VARIABLES = 32_766
_MAX_CHUNK = 512


class BulkInsert:
    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        unknown = set(self.columns) - set(table.c.keys())
        if unknown:
            raise ValueError(f"{table.name} has no columns {sorted(unknown)}")
        head = f"INSERT INTO {table.name} ({', '.join(self.columns)}) VALUES "
        one_row = f"({', '.join('?' * len(self.columns))})"
        self._insert = PlainSql(head + one_row)
        self._chunk = min(_MAX_CHUNK, 1 << ((_MAX_VARIABLES // len(self.columns)).bit_length() - 1))
        self._sqlite = {
            size: head + ", ".join([one_row] * size)
            for size in (1 << n for n in range(self._chunk.bit_length()))
        }

    def run(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows given as tuples in `columns` order."""
        if not rows:
            return
        if conn.dialect.name != "sqlite":
            self._insert.many(conn, rows)
            return
        driver = driver_of(conn)
        start = 0
        while start < len(rows):
            left = len(rows) - start
            size = self._chunk if left >= self._chunk else 1 << (left.bit_length() - 1)
            sql = self._sqlite[size]
            params = list(itertools.chain.from_iterable(rows[start : start + size]))
            try:
                driver.execute(sql, params)
            except sqlite3.IntegrityError as exc:
                raise IntegrityError(sql, params, exc) from exc
            start += size
