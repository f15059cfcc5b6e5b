"""Commits to an SQLite database, seen cheaply: `PRAGMA data_version`, read on a connection of
its own, moves whenever any other connection commits (this node's writer, another node's, the
admin CLI); and every commit writes the WAL file, which inotify reports (file_watch.py).

So a caller at rest can wait for the next commit with no wakeups at all, instead of asking the
database every few milliseconds (on this project's machine a wakeup of the loop costs ~0.1 ms
of CPU). It reads no rows, never writes and takes no lock a writer waits for.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from smsgate.store.file_watch import FileWrites, watch_writes

# Where inotify is missing, a waiting caller asks data_version this often.
_POLL = 0.01


class CommitWatch:
    """`version()`: a number that differs after any commit by another connection, or None
    when the file cannot be read now. `await changed(seen, timeout)`: returns once the
    version differs from `seen`, or after `timeout` seconds."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._writes: FileWrites | None = None
        self._watching = False  # tried to open the inotify watch (once)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: set[asyncio.Future[None]] = set()

    def version(self) -> int | None:
        try:
            if self._conn is None:
                # Any thread may ask (the loop's, a test's); a read of one pragma is atomic.
                self._conn = sqlite3.connect(
                    self._path, isolation_level=None, check_same_thread=False
                )
            row = self._conn.execute("PRAGMA data_version").fetchone()
            return int(row[0])
        except sqlite3.Error:
            self._close_connection()  # a fresh connection on the next call
            return None

    async def changed(self, seen: int | None, timeout: float) -> None:
        if seen is None or self.version() != seen:
            return
        writes = self._watch()
        loop = asyncio.get_running_loop()
        until = loop.time() + timeout
        if writes is None or (self._loop is not None and self._loop is not loop):
            while loop.time() < until and self.version() == seen:
                await asyncio.sleep(_POLL)
            return
        waiter = loop.create_future()
        if not self._waiters:
            self._loop = loop
            writes.drain()  # writes from before this wait: the version check covers them
            loop.add_reader(writes.fd, self._written)
        self._waiters.add(waiter)
        try:
            # Registered first, checked again: a commit in between is not missed.
            if self.version() != seen:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(until):
                    await waiter
        finally:
            self._waiters.discard(waiter)
            if not self._waiters:
                self._stop_reading()

    def _watch(self) -> FileWrites | None:
        if not self._watching:
            self._watching = True
            wal = self._path.with_name(self._path.name + "-wal")
            if wal.exists():  # it does while any connection (this one's) has the file open
                self._writes = watch_writes(wal)
        return self._writes

    def _written(self) -> None:
        if self._writes is not None:
            self._writes.drain()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _stop_reading(self) -> None:
        if self._loop is not None and self._writes is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed already
                self._loop.remove_reader(self._writes.fd)
        self._loop = None

    def _close_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def close(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._stop_reading()
        writes, self._writes = self._writes, None
        if writes is not None:
            writes.close()
        self._close_connection()
