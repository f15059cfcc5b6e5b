"""The hot reads of a SQLite store, run on the calling (the loop's) thread on a connection of
their own, instead of through the reader pool.

A read through the pool takes an SQLAlchemy checkout, a hop to aiosqlite's thread for the
statement and another for the rollback that returns the connection: several times the CPU of
the statement itself (bench/RESULTS.md, "Hot reads on the loop's thread"). The reads
that come here (`/sms/status`, the outbox pump's polls and pages, the event log, the lease
round's read of the leases) are one indexed statement each. In WAL mode a reader never waits
for a writer, so running it inline holds the loop only for the statement itself.

Only what SQLite answers at once is answered here: the connection has no busy timeout and
any error (busy, a file gone, a disk error) returns None, so the caller reads through the
pool as before, which waits and reports trouble the way every other read does. Nothing here
can hold the loop waiting for a lock.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class DirectReads:
    """`rows(sql, params)`: every row of one statement, or None if SQLite could not answer
    it at once. The connection opens on first use and reopens after an error."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None

    def rows(self, sql: str, params: Sequence[Any]) -> list[Any] | None:
        try:
            conn = self._conn
            if conn is None:
                conn = self._conn = self._open()
            return conn.execute(sql, params).fetchall()
        except sqlite3.Error:
            self.close()
            return None

    def _open(self) -> sqlite3.Connection:
        # No implicit transactions: one statement reads one snapshot and keeps no read lock
        # after its last row. Any thread may close it (the store's dispose).
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False, timeout=0)
        conn.execute("PRAGMA query_only = ON")
        return conn

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
