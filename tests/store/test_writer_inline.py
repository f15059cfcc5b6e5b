"""Brief writes on the caller's thread: the SQLite writer runs a brief transaction on the event
loop's thread only while it is idle and both locks are free at once; otherwise the transaction
queues for the writer thread like any other, and the loop never waits for a lock. (That it
keeps the order of queued work: test_writer_lock.py.)"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import Connection

from smsgate.store.sql_base import BRIEF_ROWS
from smsgate.store.sql_store import SqlStore

from .builders import new_message, request
from .test_writer_lock import _engines


def _insert_on_which_thread(conn: Connection) -> int:
    conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    return threading.get_ident()


def _count(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one())


async def test_brief_work_runs_on_the_loops_thread_and_other_work_on_the_writers(
    tmp_path: Path,
) -> None:
    _, engines = await _engines(tmp_path)
    committed: list[int] = []
    here = await engines.writer.run(_insert_on_which_thread, brief=True, committed=committed.append)
    there = await engines.writer.run(_insert_on_which_thread)
    assert here == threading.get_ident() == committed[0]
    assert there != threading.get_ident()
    assert await engines.writer.run(_count, brief=True) == 2
    await engines.dispose()


async def test_brief_work_that_fails_is_rolled_back_and_raises_to_its_caller(
    tmp_path: Path,
) -> None:
    _, engines = await _engines(tmp_path)

    def half_done(conn: Connection) -> None:
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        raise ValueError("the second half failed")

    with pytest.raises(ValueError, match="second half"):
        await engines.writer.run(half_done, brief=True)
    assert await engines.writer.run(_count, brief=True) == 0
    assert await engines.writer.run(_insert_on_which_thread, brief=True) == threading.get_ident()
    await engines.dispose()


# How long another writer holds the lock in the tests below. A loop that waited on the lock
# would stand still this long in one turn.
HELD = 0.6


async def _longest_turn_while(waiting: asyncio.Future[int]) -> float:
    """The longest the loop took for one turn while `waiting` was pending: a loop blocked on a
    lock stands still for as long as the lock is held. (Counting turns instead depends on how
    much CPU a loaded machine gives the loop, not on whether it waits.)"""
    loop = asyncio.get_running_loop()
    longest = 0.0
    last = loop.time()
    while not waiting.done():
        await asyncio.sleep(0.01)
        now = loop.time()
        longest = max(longest, now - last)
        last = now
    return longest


async def test_brief_work_waits_on_the_writer_thread_for_another_nodes_lock(
    tmp_path: Path,
) -> None:
    path, engines = await _engines(tmp_path)
    other_node = os.open(path.with_name(path.name + ".writer-lock"), os.O_RDWR)
    fcntl.flock(other_node, fcntl.LOCK_EX)
    pending = asyncio.ensure_future(engines.writer.run(_insert_on_which_thread, brief=True))
    asyncio.get_running_loop().call_later(HELD, fcntl.flock, other_node, fcntl.LOCK_UN)
    started = time.monotonic()
    longest = await _longest_turn_while(pending)
    assert await pending != threading.get_ident()
    assert time.monotonic() - started >= HELD - 0.05  # it did wait for the other node
    assert longest < HELD / 2  # and the loop ran on meanwhile
    os.close(other_node)
    await engines.dispose()


async def test_brief_work_waits_on_the_writer_thread_for_sqlites_own_lock(
    tmp_path: Path,
) -> None:
    path, engines = await _engines(tmp_path)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # a writer that does not take the process lock (admin CLI)
    pending = asyncio.ensure_future(engines.writer.run(_insert_on_which_thread, brief=True))
    asyncio.get_running_loop().call_later(HELD, other.execute, "COMMIT")
    started = time.monotonic()
    longest = await _longest_turn_while(pending)
    assert await pending != threading.get_ident()
    assert HELD - 0.05 <= time.monotonic() - started < HELD + 1.7
    assert longest < HELD / 2
    other.close()
    await engines.dispose()


async def test_the_store_marks_only_small_hot_batches_brief(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path / 's.db'}")
    await store.open()
    account = await store.create_account("brief")
    await store.top_up(account.id, 10_000_000)
    writer = store.engines.writer
    seen: list[bool] = []
    real_run = writer.run

    async def recording_run(work, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs.get("brief", False))
        return await real_run(work, **kwargs)

    monkeypatch.setattr(writer, "run", recording_run)
    small = BRIEF_ROWS

    def messages(count: int) -> list:  # type: ignore[type-arg]
        return [new_message(account.id, phone=f"38050{n:07d}") for n in range(count)]

    await store.accept(request(account.id, *messages(small)))
    await store.accept(request(account.id, *messages(small + 1)))
    await store.outbox_done([1, 2, 3])
    # A claim is brief up to four times as many parts: a part is far cheaper to claim.
    await store.claim_parts(1, 1.0, small * 4, 60.0)
    await store.claim_parts(1, 1.0, small * 4 + 4, 60.0)
    assert seen == [True, False, True, True, False]
    await store.close()
