"""Group commit on the SQLite writer's thread: jobs that queued while it was busy run in one
transaction, each in a savepoint of its own, so one that fails is undone alone and only its
caller hears of it; `committed` runs for the others, in order; a group has a bounded size."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from smsgate.store.engine import Engines
from smsgate.store.writer import GROUP_JOBS

from .test_writer_lock import _engines, _HeldWriter


async def _commits_counted(engines: Engines) -> list[str]:
    """The writer thread's statements from now on, as its driver runs them."""
    statements: list[str] = []

    def trace(conn: Connection) -> None:
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        raw.set_trace_callback(statements.append)

    await engines.writer.run(trace)
    statements.clear()  # the trace's own transaction
    return statements


def _insert(value: int) -> object:
    def work(conn: Connection) -> int:
        conn.exec_driver_sql(f"INSERT INTO t VALUES ({value})")
        return value

    return work


async def _values(engines: Engines) -> list[int]:
    rows = await engines.writer.run(lambda c: c.exec_driver_sql("SELECT x FROM t ORDER BY x").all())
    return [row[0] for row in rows]


async def test_jobs_queued_behind_a_transaction_commit_together(tmp_path: Path) -> None:
    _, engines = await _engines(tmp_path)
    statements = await _commits_counted(engines)
    held = _HeldWriter(engines)
    await held.hold()
    queued = [asyncio.ensure_future(engines.writer.run(_insert(i))) for i in range(3)]
    await held.release()
    assert await asyncio.gather(*queued) == [0, 1, 2]
    assert statements.count("COMMIT") == 2  # the held one's, then the three's
    assert await _values(engines) == [0, 1, 2]
    await engines.dispose()


async def test_a_job_that_fails_in_a_group_is_undone_alone(tmp_path: Path) -> None:
    _, engines = await _engines(tmp_path)
    await engines.writer.run(lambda c: c.exec_driver_sql("CREATE UNIQUE INDEX tx ON t (x)"))
    held = _HeldWriter(engines)
    await held.hold()
    done: list[int] = []

    def half_then_duplicate(conn: Connection) -> int:
        conn.exec_driver_sql("INSERT INTO t VALUES (7)")
        conn.exec_driver_sql("INSERT INTO t VALUES (7)")  # trips the index
        return 7

    def half_then_raises(conn: Connection) -> int:
        conn.exec_driver_sql("INSERT INTO t VALUES (8)")
        raise ValueError("the second half failed")

    before = asyncio.ensure_future(engines.writer.run(_insert(1), committed=done.append))
    duplicate = asyncio.ensure_future(
        engines.writer.run(half_then_duplicate, committed=done.append)
    )
    raises = asyncio.ensure_future(engines.writer.run(half_then_raises, committed=done.append))
    after = asyncio.ensure_future(engines.writer.run(_insert(2), committed=done.append))
    await held.release()
    assert await before == 1
    assert await after == 2
    with pytest.raises(IntegrityError):
        await duplicate
    with pytest.raises(ValueError, match="second half"):
        await raises
    assert done == [1, 2]  # committed ran for the two that committed, in their order
    assert await _values(engines) == [1, 2]  # nothing of the failed two, all of the others
    await engines.dispose()


async def test_a_group_has_at_most_group_jobs(tmp_path: Path) -> None:
    _, engines = await _engines(tmp_path)
    statements = await _commits_counted(engines)
    held = _HeldWriter(engines)
    await held.hold()
    count = 2 * GROUP_JOBS + 1
    queued = [asyncio.ensure_future(engines.writer.run(_insert(i))) for i in range(count)]
    await held.release()
    assert await asyncio.gather(*queued) == list(range(count))
    assert statements.count("COMMIT") == 1 + 3  # the held one's, then three groups
    await engines.dispose()


async def test_a_cancelled_job_is_left_out_of_its_group(tmp_path: Path) -> None:
    _, engines = await _engines(tmp_path)
    held = _HeldWriter(engines)
    await held.hold()
    first = asyncio.ensure_future(engines.writer.run(_insert(1)))
    cancelled = asyncio.ensure_future(engines.writer.run(_insert(2)))
    last = asyncio.ensure_future(engines.writer.run(_insert(3)))
    await asyncio.sleep(0)
    cancelled.cancel()
    await held.release()
    assert (await first, await last) == (1, 3)
    assert await _values(engines) == [1, 3]
    await engines.dispose()


async def test_a_background_group_yields_to_an_accept_between_its_jobs(tmp_path: Path) -> None:
    """An accept that arrives while a background group runs waits for the job in progress,
    not for the whole group: the rest of the group goes after it, in its order."""
    _, engines = await _engines(tmp_path)
    statements = await _commits_counted(engines)
    held = _HeldWriter(engines)
    await held.hold()
    started, go = threading.Event(), threading.Event()

    def first(conn: Connection) -> str:
        started.set()
        go.wait(5)
        held.order.append("bg 0")
        return "bg 0"

    queued = [asyncio.ensure_future(engines.writer.run(first))]
    queued += [asyncio.ensure_future(engines.writer.run(held.job(f"bg {i}"))) for i in (1, 2)]
    await asyncio.sleep(0)
    releasing = asyncio.ensure_future(held.release(*queued))
    assert await asyncio.to_thread(started.wait, 5)
    accept = asyncio.ensure_future(engines.writer.run(held.job("accept"), urgent=True))
    await asyncio.sleep(0.05)  # queued behind bg 0
    go.set()
    assert await accept == "accept"
    assert await releasing == ["running", "bg 0", "accept", "bg 1", "bg 2"]
    # The held one, bg 0 alone, the accept, then bg 1 and bg 2 together.
    assert statements.count("COMMIT") == 4
    await engines.dispose()
