"""Hot-path statements run on the driver itself: SQL text written once, PostgreSQL-flavoured
with `?` placeholders, turned into each engine's text once, and executed with plain tuples, so
a statement costs what the database spends on it and not SQLAlchemy's per-call compile, cache
key and result machinery (measured: bench/RESULTS.md "Store").

`col = ANY(?)` takes a list: PostgreSQL gets the array as one parameter; SQLite gets `col IN
(?, ...)` padded to a power of two by repeating the last value, so a handful of texts serve
every list length and stay in the driver's statement cache. `lock` is appended only on
PostgreSQL (SQLite's BEGIN IMMEDIATE already holds the write lock). No policy here.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

_TOKEN = re.compile(r"=\s*ANY\(\?\)|\?")


class PlainSql:
    def __init__(self, sql: str, *, lock: str = "") -> None:
        self.sql = " ".join(sql.split())
        pieces = _TOKEN.split(self.sql)
        tokens = _TOKEN.findall(self.sql)
        self._lists = tuple(i for i, t in enumerate(tokens) if t != "?")
        self._pieces = pieces
        n = iter(range(1, len(tokens) + 1))
        pg = [pieces[0]]
        for token, piece in zip(tokens, pieces[1:], strict=True):
            pg.append(f"= ANY(${next(n)})" if token != "?" else f"${next(n)}")
            pg.append(piece)
        self.postgresql = "".join(pg) + (f" {lock}" if lock else "")
        self._sqlite: dict[tuple[int, ...], str] = {}

    def _sqlite_text(self, sizes: tuple[int, ...]) -> str:
        text = self._sqlite.get(sizes)
        if text is None:
            out = [self._pieces[0]]
            lists = iter(sizes)
            for i, piece in enumerate(self._pieces[1:]):
                out.append(f"IN ({', '.join('?' * next(lists))})" if i in self._lists else "?")
                out.append(piece)
            text = self._sqlite[sizes] = "".join(out)
        return text

    def _sqlite_call(self, params: Sequence[Any]) -> tuple[str, Sequence[Any]]:
        if not self._lists:
            return self._sqlite_text(()), params
        flat: list[Any] = []
        sizes: list[int] = []
        for i, value in enumerate(params):
            if i in self._lists:
                values = list(value)
                if not values:
                    raise ValueError("a list parameter must not be empty")
                size = 1 << (len(values) - 1).bit_length()
                values.extend(values[-1:] * (size - len(values)))
                flat.extend(values)
                sizes.append(size)
            else:
                flat.append(value)
        return self._sqlite_text(tuple(sizes)), flat

    def sqlite(self, *params: Any) -> tuple[str, Sequence[Any]]:
        """SQLite's text and flat parameters, for a caller that runs them on another driver
        object (an aiosqlite connection on the read side)."""
        return self._sqlite_call(params)

    def rows(self, conn: Connection, *params: Any) -> list[Any]:
        """Run once and return every row as a tuple (PostgreSQL: tuple-like Rows)."""
        if conn.dialect.name == "sqlite":
            sql, flat = self._sqlite_call(params)
            driver = driver_of(conn)
            try:
                return driver.execute(sql, flat).fetchall()
            except sqlite3.IntegrityError as exc:
                raise IntegrityError(sql, flat, exc) from exc
        return list(conn.exec_driver_sql(self.postgresql, tuple(params)).all())

    def run(self, conn: Connection, *params: Any) -> int:
        """Run once for its effect; the number of rows it touched."""
        if conn.dialect.name == "sqlite":
            sql, flat = self._sqlite_call(params)
            driver = driver_of(conn)
            try:
                return int(driver.execute(sql, flat).rowcount)
            except sqlite3.IntegrityError as exc:
                raise IntegrityError(sql, flat, exc) from exc
        return int(conn.exec_driver_sql(self.postgresql, tuple(params)).rowcount)

    def many(self, conn: Connection, rows: Iterable[tuple[Any, ...]]) -> None:
        """Run once per row (no list parameters) with the driver's executemany."""
        batch = list(rows)
        if not batch:
            return
        if self._lists:
            raise ValueError("executemany takes no list parameters")
        if conn.dialect.name == "sqlite":
            sql = self._sqlite_text(())
            try:
                driver_of(conn).executemany(sql, batch)
            except sqlite3.IntegrityError as exc:
                raise IntegrityError(sql, batch, exc) from exc
            return
        conn.exec_driver_sql(self.postgresql, batch)


def driver_of(conn: Connection) -> sqlite3.Connection:
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver
