"""SQLite's hot reads on the loop's thread (store/direct_reads.py through hot_reads.fetch): they
skip the reader pool, see every commit made before them, never write, and never hold the loop
waiting for a lock: what SQLite cannot answer at once goes through the pool as before."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from smsgate.store.engine import Engines, create_engines
from smsgate.store.hot_reads import fetch
from smsgate.store.plain_sql import PlainSql

VALUES = PlainSql("SELECT x FROM t WHERE x = ANY(?) ORDER BY x")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "s.db"


@pytest.fixture
def other(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's connection, as far as the store can tell."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.execute("INSERT INTO t VALUES (1), (2), (3)")
    yield conn
    conn.close()


@pytest.fixture
async def engines(path: Path, other: sqlite3.Connection) -> AsyncIterator[Engines]:
    engines = create_engines(f"sqlite+aiosqlite:///{path}")
    yield engines
    await engines.dispose()


def pool_checkouts(engines: Engines) -> list[object]:
    taken: list[object] = []
    event.listen(engines.reader.sync_engine.pool, "checkout", lambda *args: taken.append(args))
    return taken


async def test_a_hot_read_is_answered_without_the_reader_pool(engines: Engines) -> None:
    taken = pool_checkouts(engines)
    assert [row[0] for row in await fetch(engines, VALUES, [3, 1, 7])] == [1, 3]
    assert taken == []


async def test_each_read_sees_what_was_committed_before_it(
    engines: Engines, other: sqlite3.Connection
) -> None:
    assert [row[0] for row in await fetch(engines, VALUES, [4])] == []
    other.execute("INSERT INTO t VALUES (4)")
    assert [row[0] for row in await fetch(engines, VALUES, [4])] == [4]
    # Held open across reads, the direct connection would pin the WAL; it keeps no snapshot.
    assert other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0  # not busy


async def test_the_direct_connection_cannot_write(engines: Engines) -> None:
    assert engines.direct is not None
    assert engines.direct.rows("INSERT INTO t VALUES (9)", ()) is None
    assert [row[0] for row in await fetch(engines, VALUES, [9])] == []


async def test_what_sqlite_cannot_answer_at_once_is_read_through_the_pool(
    engines: Engines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = engines.direct
    assert direct is not None
    assert direct.rows("PRAGMA busy_timeout", ()) == [(0,)]  # it never waits for a lock
    taken = pool_checkouts(engines)
    direct.close()
    # A path SQLite cannot open stands for any error (busy, a disk error): the same rows come
    # through the pool, which waits and reports trouble as every other read does.
    monkeypatch.setattr(direct, "_path", tmp_path)
    assert [row[0] for row in await fetch(engines, VALUES, [2])] == [2]
    assert len(taken) == 1
    monkeypatch.undo()
    assert [row[0] for row in await fetch(engines, VALUES, [2])] == [2]
    assert len(taken) == 1  # and once SQLite answers again, the reads are direct again
