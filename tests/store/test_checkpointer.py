"""WAL checkpoints run on their own thread: the writer's connection never checkpoints inside
a commit, and what it writes still reaches the database file within a few intervals; with no
commit it does not run at all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection

from smsgate.store.checkpointer import WalCheckpointer
from smsgate.store.engine import create_engines
from smsgate.store.writer import ThreadWriter


async def test_the_writer_leaves_checkpoints_to_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    engines = create_engines(f"sqlite+aiosqlite:///{path}")

    def fill(conn: Connection) -> int:
        conn.exec_driver_sql("CREATE TABLE t (x BLOB)")
        for _ in range(2_000):  # ~2,000 pages: SQLite alone would checkpoint at 1,000
            conn.exec_driver_sql("INSERT INTO t VALUES (randomblob(3000))")
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())

    try:
        assert await engines.writer.run(fill) == 0
        for _ in range(50):
            if path.stat().st_size > 4_000_000:
                break
            await asyncio.sleep(0.05)
        assert path.stat().st_size > 4_000_000  # the pages left the WAL for the database file
    finally:
        await engines.dispose()


async def test_it_checkpoints_only_after_commits(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    checkpointer = WalCheckpointer(path, interval=0.01, rest=0.01)
    engines = create_engines(f"sqlite+aiosqlite:///{path}")
    assert isinstance(engines.writer, ThreadWriter)
    engines.writer._checkpointer = checkpointer  # the engine's own, with short intervals

    def insert(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")

    try:
        await engines.writer.run(insert)
        await until(lambda: checkpointer.checkpoints >= 1)
        at_rest = checkpointer.checkpoints
        await asyncio.sleep(0.3)  # thirty intervals without a commit
        assert checkpointer.checkpoints == at_rest
        await engines.writer.run(insert)
        await until(lambda: checkpointer.checkpoints > at_rest)
    finally:
        await engines.dispose()


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)
