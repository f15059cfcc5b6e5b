"""The SQLite writer and another process's write lock: it waits in short steps (not SQLite's
1-2-5-10 ms sleeps), commits as soon as the lock is free, gives up after the busy timeout with
the driver's error, and leaves the connection's own busy_timeout as it was. And the order of
its own work: urgent before background, and brief work never ahead of what was queued."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from smsgate.store import writer as writer_module
from smsgate.store.engine import Engines, create_engines


def _hold_lock(path: Path, seconds: float, held: threading.Event) -> None:
    other = sqlite3.connect(path, isolation_level=None)  # another process, as far as locks go
    other.execute("BEGIN IMMEDIATE")
    held.set()
    time.sleep(seconds)
    other.execute("COMMIT")
    other.close()


async def _engines(tmp_path: Path) -> tuple[Path, Engines]:
    path = tmp_path / "s.db"
    engines = create_engines(f"sqlite+aiosqlite:///{path}")
    await engines.writer.run(lambda c: c.exec_driver_sql("CREATE TABLE t (x INTEGER)"))
    return path, engines


def _insert(conn: Connection) -> int:
    conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    return int(conn.execute(text("PRAGMA busy_timeout")).scalar_one())


async def test_a_held_lock_is_waited_for_and_taken_soon_after_release(tmp_path: Path) -> None:
    path, engines = await _engines(tmp_path)
    held = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(path, 0.3, held))
    holder.start()
    held.wait(5)
    started = time.monotonic()
    timeout_inside = await asyncio.wait_for(engines.writer.run(_insert), 10)
    waited = time.monotonic() - started
    holder.join()
    await engines.dispose()
    assert 0.25 <= waited < 0.35  # SQLite's own handler would sleep in steps of up to 100 ms
    assert timeout_inside == writer_module.BUSY_TIMEOUT_MS


async def test_a_lock_held_past_the_timeout_fails_with_the_drivers_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, engines = await _engines(tmp_path)
    monkeypatch.setattr(writer_module, "BUSY_TIMEOUT_MS", 100)
    held = threading.Event()
    holder = threading.Thread(target=_hold_lock, args=(path, 0.5, held))
    holder.start()
    held.wait(5)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        await asyncio.wait_for(engines.writer.run(_insert), 10)
    holder.join()
    # The writer is usable again once the lock is free.
    assert await asyncio.wait_for(engines.writer.run(_insert), 10) == 100
    await engines.dispose()


async def test_two_writers_on_one_file_take_turns_through_the_process_lock(
    tmp_path: Path,
) -> None:
    path, first = await _engines(tmp_path)
    second = create_engines(f"sqlite+aiosqlite:///{path}")
    assert path.with_name(path.name + ".writer-lock").exists()
    order: list[str] = []

    def slow(conn: Connection) -> None:
        order.append("slow in")
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
        time.sleep(0.3)
        order.append("slow out")

    def quick(conn: Connection) -> None:
        order.append("quick")
        conn.exec_driver_sql("INSERT INTO t VALUES (3)")

    slow_run = asyncio.ensure_future(first.writer.run(slow))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await asyncio.wait_for(second.writer.run(quick), 10)
    waited = time.monotonic() - started
    await slow_run
    assert order == ["slow in", "slow out", "quick"]
    assert 0.2 <= waited < 0.3
    count = await second.writer.run(lambda c: c.exec_driver_sql("SELECT count(*) FROM t").scalar())
    assert count == 2
    await first.dispose()
    await second.dispose()


class _HeldWriter:
    """The writer thread kept inside one transaction until `release()`; the jobs made by
    `job()` record the order in which they ran."""

    def __init__(self, engines: Engines) -> None:
        self.engines = engines
        self.order: list[str] = []
        self._gate = threading.Event()
        self.running: asyncio.Future[None] | None = None

    async def hold(self) -> None:
        def blocker(conn: Connection) -> None:
            self._gate.wait(5)
            self.order.append("running")

        self.running = asyncio.ensure_future(self.engines.writer.run(blocker))
        await asyncio.sleep(0.05)  # the blocker holds the thread; the rest queue behind it

    def job(self, name: str) -> Callable[[Connection], str]:
        def work(conn: Connection) -> str:
            self.order.append(name)
            return name

        return work

    async def release(self, *others: asyncio.Future[str]) -> list[str]:
        await asyncio.sleep(0.05)
        self._gate.set()
        assert self.running is not None
        await asyncio.wait_for(asyncio.gather(self.running, *others), 5)
        return self.order


async def test_urgent_work_goes_ahead_of_queued_background_work(tmp_path: Path) -> None:
    _, engines = await _engines(tmp_path)
    held = _HeldWriter(engines)
    await held.hold()
    queued = [asyncio.ensure_future(engines.writer.run(held.job(f"bg {i}"))) for i in range(2)]
    await asyncio.sleep(0)
    urgent = asyncio.ensure_future(engines.writer.run(held.job("accept"), urgent=True))
    assert await held.release(*queued, urgent) == ["running", "accept", "bg 0", "bg 1"]
    await engines.dispose()
    with pytest.raises(RuntimeError):
        await engines.writer.run(held.job("late"))


async def test_brief_work_does_not_overtake_work_queued_before_it(tmp_path: Path) -> None:
    _, engines = await _engines(tmp_path)
    held = _HeldWriter(engines)
    await held.hold()
    queued = asyncio.ensure_future(engines.writer.run(held.job("queued")))
    await asyncio.sleep(0)
    brief = asyncio.ensure_future(engines.writer.run(held.job("brief"), brief=True))
    assert await held.release(queued, brief) == ["running", "queued", "brief"]
    # Idle again: the next brief one runs on the loop's thread at once.
    here = await engines.writer.run(lambda c: threading.get_ident(), brief=True)
    assert here == threading.get_ident()
    await engines.dispose()
