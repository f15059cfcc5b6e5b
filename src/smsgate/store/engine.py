"""From a database URL to the engines the store runs on, with SQLite set up for many writers:
WAL, the chosen synchronous level, a busy timeout and write transactions that take the write
lock up front (BEGIN IMMEDIATE). Holds no queries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from smsgate.immutable import record
from smsgate.store.checkpointer import WalCheckpointer
from smsgate.store.commit_watch import CommitWatch
from smsgate.store.direct_reads import DirectReads
from smsgate.store.interface import StoreError
from smsgate.store.writer import (
    BUSY_TIMEOUT_MS,
    AsyncWriter,
    ThreadWriter,
    Writer,
    retry_while_locked,
)

SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")


@record
class Engines:
    """`writer` runs every write transaction; `reader` serves reads. On PostgreSQL both are
    one asyncpg pool; on SQLite the writer is one connection in its own thread (a whole
    transaction per hop, and in-process writers queue there instead of on the file lock).
    `commits`: SQLite's sign of commits (commit_watch.py); PostgreSQL has none as cheap.
    `direct`: SQLite's hot reads on the caller's thread (direct_reads.py)."""

    writer: Writer
    reader: AsyncEngine
    sqlite: bool
    commits: CommitWatch | None = None
    direct: DirectReads | None = None

    async def dispose(self) -> None:
        if self.commits is not None:
            self.commits.close()
        if self.direct is not None:
            self.direct.close()
        await self.writer.close()
        await self.reader.dispose()


def sqlite_path(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def create_engines(url: str, *, synchronous: str = "NORMAL") -> Engines:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        level = synchronous.upper()
        if level not in SYNCHRONOUS_LEVELS:
            raise StoreError(f"synchronous must be one of {SYNCHRONOUS_LEVELS}, not {synchronous}")
        path = sqlite_path(parsed)
        if path is None:
            raise StoreError("the SQLite store needs a file path (WAL does not work in memory)")
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = create_engine(parsed.set(drivername="sqlite"), pool_size=1, max_overflow=0)
        reader = create_async_engine(parsed, pool_size=4, max_overflow=4)
        # ThreadWriter begins IMMEDIATE itself; the checkpointer thread checkpoints for it.
        _configure_sqlite(writer, level, begin=None, autocheckpoint=False)
        _configure_sqlite(reader.sync_engine, level, begin="BEGIN")
        lock = path.with_name(path.name + ".writer-lock")
        writer_thread = ThreadWriter(writer, lock, WalCheckpointer(path))
        return Engines(
            writer_thread,
            reader,
            sqlite=True,
            commits=CommitWatch(path),
            direct=DirectReads(path),
        )
    if parsed.get_backend_name() == "postgresql":
        engine = create_async_engine(parsed, pool_size=10, max_overflow=10)
        return Engines(AsyncWriter(engine), engine, sqlite=False)
    raise StoreError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


def _set_wal(cursor: Any) -> None:
    """Switching a new file to WAL needs its exclusive lock; two nodes opening it at once can
    each hold a shared lock and want it, and SQLite answers one of them "locked" at once
    instead of waiting. Ask again for as long as a write would wait."""
    retry_while_locked(lambda: cursor.execute("PRAGMA journal_mode = WAL"), 0.01)


def _configure_sqlite(
    engine: Engine, synchronous: str, *, begin: str | None, autocheckpoint: bool = True
) -> None:
    # The driver's own implicit BEGIN is turned off so that we decide how a transaction
    # starts: a deferred BEGIN that later upgrades to a write lock can deadlock against
    # another process and fail at once, whatever busy_timeout says. With `begin` None the
    # owner of the connection issues BEGIN itself (no hook to pay for per transaction).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _set_wal(cursor)
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if not autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint = 0")
        cursor.close()

    if begin is None:
        return
    statement = begin

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(statement)
