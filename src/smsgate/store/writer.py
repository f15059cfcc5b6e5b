"""Where write transactions run: a function of a (sync) SQLAlchemy Connection, executed inside
one transaction that commits when it returns and rolls back when it raises.

SQLite: in one dedicated thread over the plain sqlite3 driver, so a whole transaction costs one
hop between threads instead of one per statement; the thread keeps its one connection for its
whole life and starts each transaction itself (BEGIN IMMEDIATE), with no pool checkout or event
hook per transaction. PostgreSQL: on the asyncpg pool through `run_sync`. The write logic is the
same function either way; nothing here knows about it.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")

# How long a write waits for another process to release SQLite's write lock.
BUSY_TIMEOUT_MS = 10_000


class Writer(Protocol):
    async def run(self, work: Callable[[Connection], T]) -> T: ...

    async def close(self) -> None: ...


class ThreadWriter:
    """`engine` must leave transactions to this class: its driver's implicit BEGIN off and no
    "begin" hook (engine.create_engines sets it up so)."""

    def __init__(self, engine: Engine, lock_path: Path | None = None) -> None:
        self._engine = engine
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smsgate-writer")
        self._conn: Connection | None = None  # used only from the writer thread
        self._lock = _ProcessLock(lock_path) if lock_path is not None else None

    def _in_transaction(self, work: Callable[[Connection], T]) -> T:
        conn = self._conn
        if conn is None or conn.invalidated or conn.closed:
            conn = self._conn = self._engine.connect()
        if self._lock is not None:
            self._lock.acquire()
        try:
            trans = conn.begin()  # SQLAlchemy's bookkeeping; the driver's BEGIN is a no-op
            try:
                _begin_immediate(conn)
                result = work(conn)
            except BaseException:
                trans.rollback()
                raise
            trans.commit()
            return result
        finally:
            if self._lock is not None:
                self._lock.release()

    def _dispose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        if self._lock is not None:
            self._lock.close()
        self._engine.dispose()

    async def run(self, work: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._in_transaction, work)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._dispose)
        self._thread.shutdown(wait=True)


class _ProcessLock:
    """An flock beside the database file that every node's writer takes around its write
    transactions. With two nodes on one file (`--workers 2`), the one that waits sleeps in
    the kernel and is woken the moment the other commits: no polling and no busy sleeps, and
    the SQLite lock is free by the time it asks (measured 15-25 % less worker CPU than polling
    alone). Other processes that write without it (the admin CLI) still meet the polling
    below. A no-op where flock does not exist."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        if fcntl is None:
            return
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def release(self) -> None:
        if fcntl is not None and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


# Another process (a `--workers` sibling, the admin CLI) may hold SQLite's write lock. SQLite's
# own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 … ms between tries, so a writer that finds the
# lock taken for 1 ms sleeps 3-8 ms, and with two nodes on one file the lock sits idle while
# both sleep. The writer asks without SQLite's handler and retries on its own every
# `_LOCK_RETRY` seconds, up to the same overall timeout.
_LOCK_RETRY = 0.0002


def _begin_immediate(conn: Connection) -> None:
    # IMMEDIATE takes the write lock up front: a deferred BEGIN that upgrades later can
    # deadlock against another process and fail at once, whatever busy_timeout says.
    # Statements inside the transaction keep the connection's busy_timeout (SQLite's handler):
    # only the lock itself is waited for here.
    raw = conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(_LOCK_RETRY)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


class AsyncWriter:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def run(self, work: Callable[[Connection], T]) -> T:
        async with self._engine.begin() as conn:
            return await conn.run_sync(work)

    async def close(self) -> None:
        await self._engine.dispose()
