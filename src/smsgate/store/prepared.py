"""Bulk INSERTs for the accept hot path, one plain driver statement per table run with tuples
through the driver's executemany: SQLAlchemy's per-row parameter processing cost more than
SQLite's own insert work (see bench/RESULTS.md "Store"). Only for columns whose Python values
the drivers take as they are (int, float, str, bytes, None)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table

from smsgate.store.plain_sql import PlainSql


class BulkInsert:
    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        unknown = set(self.columns) - set(table.c.keys())
        if unknown:
            raise ValueError(f"{table.name} has no columns {sorted(unknown)}")
        self._insert = PlainSql(
            f"INSERT INTO {table.name} ({', '.join(self.columns)})"
            f" VALUES ({', '.join('?' * len(self.columns))})"
        )

    def run(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows given as tuples in `columns` order."""
        self._insert.many(conn, rows)
