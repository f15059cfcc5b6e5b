"""Where write transactions run: a function of a (sync) SQLAlchemy Connection, executed inside
one transaction that commits when it returns and rolls back when it raises.

SQLite: in one dedicated thread over the plain sqlite3 driver, so a whole transaction costs one
hop between threads instead of one per statement (accepts ahead of background writes); the
thread keeps its one connection for its whole life and starts each transaction itself (BEGIN
IMMEDIATE), with no pool checkout or event hook per transaction. A brief transaction (a small
hot-path batch) runs on the caller's own thread instead when nothing else is queued or running
and both locks are free at once. PostgreSQL: on the asyncpg pool through `run_sync`. The write
logic is the same function either way; nothing here knows about it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from smsgate.store.checkpointer import WalCheckpointer

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")

# How long a write waits for another process to release SQLite's write lock.
BUSY_TIMEOUT_MS = 10_000
# At most this many queued jobs share one transaction (ThreadWriter._in_group): each is a
# bounded batch, so a group holds the lock, and an accept that arrives meanwhile waits, for a
# bounded time.
GROUP_JOBS = 8


class Writer(Protocol):
    async def run(
        self,
        work: Callable[[Connection], T],
        *,
        urgent: bool = False,
        committed: Callable[[T], None] | None = None,
        brief: bool = False,
    ) -> T:
        """`urgent`: a caller is waiting on it (an accept); it goes ahead of queued
        background writes (claims, submit results, receipts) where the engine queues them.
        `committed`: called with the result once the transaction has committed, before the
        writer starts its next one (where it runs them one at a time) — for state that must
        not see a rolled-back write. `brief`: the work is a small batch (a few milliseconds
        at most), which the engine may run on the caller's thread, blocking it meanwhile."""
        ...

    async def close(self) -> None: ...


class ThreadWriter:
    """`engine` must leave transactions to this class: its driver's implicit BEGIN off and no
    "begin" hook (engine.create_engines sets it up so).

    One thread, two queues: urgent work (accepts, which a client is waiting for) is taken
    before background work. What queued while a transaction ran is taken as one group (up to
    GROUP_JOBS jobs of one queue, `_in_group`): one BEGIN and one COMMIT for all of them. The
    accepts' batching hands over one accept batch at a time, so urgent and background groups
    alternate under load and neither starves; an accept waits for at most the one background
    group in progress instead of every job queued before it.

    Brief work runs on the event loop's thread when the writer is idle (nothing queued, no
    transaction running) and both the process lock and SQLite's lock are free at once;
    otherwise it queues like any other. The thread and the loop share the GIL: the writer
    gives it up inside every statement and waits for the loop to hand it back, while holding
    the write lock the other node waits for. On the SMPP door benchmark that round trip made
    a transaction's wall time ~1.4x its CPU time (bench/smpp_door.py). Inline, a
    brief transaction holds the lock only for its own work, and costs no thread handoff.
    Only an idle writer lends itself, so work never overtakes what was queued before it."""

    def __init__(
        self,
        engine: Engine,
        lock_path: Path | None = None,
        checkpointer: WalCheckpointer | None = None,
    ) -> None:
        self._engine = engine
        # Started after the first commit: by then this connection has put the file in WAL.
        self._checkpointer = checkpointer
        self._conn: Connection | None = None  # used only from the writer thread
        self._lock = _ProcessLock(lock_path) if lock_path is not None else None
        self._urgent: deque[_Job] = deque()
        self._background: deque[_Job] = deque()
        self._wake = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._busy = False  # a transaction is running, on the thread or inline

    async def run(
        self,
        work: Callable[[Connection], T],
        *,
        urgent: bool = False,
        committed: Callable[[T], None] | None = None,
        brief: bool = False,
    ) -> T:
        if brief and self._claim_idle():
            try:
                result = self._in_transaction(work, wait=False)
                if committed is not None:
                    committed(result)
                self._committed()
                return result
            except _LockTaken:
                pass  # another process is writing: queue, and let the thread wait for it
            finally:
                self._idle()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._wake:
            if self._closing:
                raise RuntimeError("the writer is closed")
            job = (work, committed, loop, future)
            (self._urgent if urgent else self._background).append(job)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="smsgate-writer", daemon=True
                )
                self._thread.start()
            self._wake.notify()
        return await future

    async def close(self) -> None:
        """Finish what is queued, then close the connection and the engine."""
        with self._wake:
            self._closing = True
            thread = self._thread
            self._wake.notify()
        if thread is not None:
            await asyncio.to_thread(thread.join)
        else:
            self._dispose()

    def _claim_idle(self) -> bool:
        """Take the writer for one inline transaction if it is idle."""
        with self._wake:
            if self._closing or self._busy or self._urgent or self._background:
                return False
            self._busy = True
            return True

    def _idle(self) -> None:
        with self._wake:
            self._busy = False
            self._wake.notify()  # after an inline one, the thread may be waiting with work

    def _committed(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.start()  # once; later calls do nothing
            self._checkpointer.committed()

    def _serve(self) -> None:
        while True:
            with self._wake:
                while self._busy or (
                    not self._urgent and not self._background and not self._closing
                ):
                    self._wake.wait()
                queue = self._urgent or self._background
                if not queue:
                    break
                jobs: list[_Job] = []
                while queue and len(jobs) < GROUP_JOBS:
                    job = queue.popleft()
                    if not job[3].cancelled():  # its caller is gone and it has not started
                        jobs.append(job)
                if not jobs:
                    continue
                self._busy = True
            # A background group ends early when an accept arrives: it waits for one job, not
            # the whole group (the rest go back to the front of their queue).
            yield_to = None if queue is self._urgent else self._urgent
            outcomes: list[list[Any]] = []
            try:
                self._in_group([job[0] for job in jobs], outcomes, yield_to)
            except BaseException as exc:  # the transaction as a whole: the group fails
                outcomes[:] = [[False, exc]] * len(jobs)
            else:
                for (_, committed, _, _), outcome in zip(jobs, outcomes, strict=False):
                    if outcome[0] and committed is not None:
                        try:
                            committed(outcome[1])
                        except BaseException as exc:
                            outcome[:] = [False, exc]
                self._committed()
            ran, jobs = jobs[: len(outcomes)], jobs[len(outcomes) :]
            if jobs:
                with self._wake:
                    queue.extendleft(reversed(jobs))
            self._idle()  # before the callers hear of it: their next brief work may run inline
            for (_, _, loop, future), (ok, result) in zip(ran, outcomes, strict=True):
                loop.call_soon_threadsafe(_succeed if ok else _fail, future, result)
        self._dispose()

    def _in_group(
        self,
        works: list[Callable[[Connection], Any]],
        outcomes: list[list[Any]],
        yield_to: deque[_Job] | None,
    ) -> None:
        """Queued jobs in one transaction, each in a savepoint of its own: one that raises is
        undone alone and its caller gets the error, as if it had run by itself, while the
        others commit. One commit (and one BEGIN, one set of WAL frames for the pages they
        share) instead of one per job: under load several are waiting each time.

        `outcomes` gets [succeeded, its result or its error] for each job that ran, in order;
        the group stops before the next job once `yield_to` has work."""
        if len(works) == 1:
            outcomes.append([True, self._in_transaction(works[0])])
            return

        def each(conn: Connection) -> None:
            raw = conn.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            for work in works:
                if outcomes and yield_to:
                    return
                raw.execute("SAVEPOINT job")
                try:
                    result = work(conn)
                except Exception as exc:
                    raw.execute("ROLLBACK TO job")
                    raw.execute("RELEASE job")
                    outcomes.append([False, exc])
                else:
                    raw.execute("RELEASE job")
                    outcomes.append([True, result])

        self._in_transaction(each)

    def _in_transaction(self, work: Callable[[Connection], T], *, wait: bool = True) -> T:
        """`wait=False`: raise _LockTaken at once, before `work` runs, if another writer
        holds either lock."""
        conn = self._conn
        if conn is None or conn.invalidated or conn.closed:
            conn = self._conn = self._engine.connect()
        if self._lock is not None:
            self._lock.acquire(wait)
        try:
            trans = conn.begin()  # SQLAlchemy's bookkeeping; the driver's BEGIN is a no-op
            try:
                _begin_immediate(conn, wait)
                result = work(conn)
            except BaseException:
                trans.rollback()
                raise
            try:
                trans.commit()
            except BaseException:
                # A COMMIT that failed (the disk full, an I/O error) leaves this connection
                # inside its transaction, and every later begin() would fail: the next write
                # takes a fresh connection instead, so the node recovers once the disk does.
                self._conn = None
                with contextlib.suppress(Exception):
                    conn.close()
                raise
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
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self._engine.dispose()


_Job = tuple[
    Callable[[Connection], Any],
    Callable[[Any], None] | None,
    asyncio.AbstractEventLoop,
    "asyncio.Future[Any]",
]


class _LockTaken(Exception):
    """Another writer holds a lock that a write which must not wait asked for."""


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


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

    def acquire(self, wait: bool = True) -> None:
        """`wait=False`: raise _LockTaken instead of waiting."""
        if fcntl is None:
            return
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        if wait:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _LockTaken from None

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


def _begin_immediate(conn: Connection, wait: bool = True) -> None:
    # IMMEDIATE takes the write lock up front: a deferred BEGIN that upgrades later can
    # deadlock against another process and fail at once, whatever busy_timeout says.
    # Statements inside the transaction keep the connection's busy_timeout (SQLite's handler):
    # only the lock itself is waited for here, or with `wait=False` asked for once.
    raw = conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        if wait:
            retry_while_locked(lambda: raw.execute("BEGIN IMMEDIATE"), _LOCK_RETRY)
        else:
            try:
                raw.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if _is_busy(exc):
                    raise _LockTaken from None
                raise
    finally:
        raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def retry_while_locked(execute: Callable[[], object], interval: float) -> None:
    """Run `execute` again every `interval` seconds while SQLite answers "locked" or "busy",
    for up to the busy timeout; then, or on any other error, raise the driver's error."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            execute()
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() > deadline:
                raise
        time.sleep(interval)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


class AsyncWriter:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def run(
        self,
        work: Callable[[Connection], T],
        *,
        urgent: bool = False,
        committed: Callable[[T], None] | None = None,
        brief: bool = False,
    ) -> T:
        async with self._engine.begin() as conn:
            result = await conn.run_sync(work)
        if committed is not None:
            committed(result)
        return result

    async def close(self) -> None:
        await self._engine.dispose()
