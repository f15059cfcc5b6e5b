"""Bulk INSERTs for the accept hot path, compiled once per dialect and run with plain tuples
through the driver's executemany: SQLAlchemy's per-row parameter processing cost more than
SQLite's own insert work (measured: 15k -> see bench/RESULTS.md). Only for columns whose
Python values the drivers take as they are (int, float, str, bytes, None)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam


class BulkInsert:
    def __init__(self, table: Table, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)
        self._sql: dict[str, str] = {}

    def _compiled(self, conn: Connection) -> str:
        name = conn.dialect.name
        sql = self._sql.get(name)
        if sql is None:
            stmt = self.table.insert().values({c: bindparam(c) for c in self.columns})
            compiled = stmt.compile(dialect=conn.dialect)
            if tuple(compiled.positiontup or ()) != self.columns:
                raise RuntimeError(f"{name} does not bind {self.table.name} positionally")
            sql = self._sql[name] = compiled.string
        return sql

    def run(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert rows given as tuples in `columns` order."""
        if rows:
            conn.exec_driver_sql(self._compiled(conn), list(rows))
