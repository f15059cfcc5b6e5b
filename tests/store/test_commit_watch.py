"""CommitWatch: changed() returns on another connection's commit, through inotify where the
kernel has it and by polling data_version where it does not, and after its timeout otherwise."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from smsgate.store import commit_watch
from smsgate.store.commit_watch import CommitWatch


def database(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (x)")
    return conn


@pytest.mark.parametrize("inotify", [True, False])
async def test_a_commit_by_another_connection_ends_the_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inotify: bool
) -> None:
    if not inotify:
        monkeypatch.setattr(commit_watch, "watch_writes", lambda path: None)
    writer = database(tmp_path / "s.db")
    watch = CommitWatch(tmp_path / "s.db")
    try:
        seen = watch.version()
        assert seen is not None
        waiting = asyncio.ensure_future(watch.changed(seen, 30.0))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        started = time.monotonic()
        writer.execute("INSERT INTO t VALUES (1)")
        await asyncio.wait_for(waiting, 10)
        assert time.monotonic() - started < 5  # the commit, not the 30 s timeout
        assert watch.version() != seen
    finally:
        watch.close()
        writer.close()


async def test_without_a_commit_it_waits_out_its_timeout(tmp_path: Path) -> None:
    writer = database(tmp_path / "s.db")
    watch = CommitWatch(tmp_path / "s.db")
    try:
        seen = watch.version()
        started = time.monotonic()
        await asyncio.wait_for(watch.changed(seen, 0.2), 10)
        assert time.monotonic() - started >= 0.15
        assert watch.version() == seen
    finally:
        watch.close()
        writer.close()


async def test_close_ends_a_wait(tmp_path: Path) -> None:
    writer = database(tmp_path / "s.db")
    watch = CommitWatch(tmp_path / "s.db")
    try:
        waiting = asyncio.ensure_future(watch.changed(watch.version(), 30.0))
        await asyncio.sleep(0.05)
        watch.close()
        await asyncio.wait_for(waiting, 5)
    finally:
        writer.close()
