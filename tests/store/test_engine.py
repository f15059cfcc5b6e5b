"""Engines: SQLite gets its directory, WAL, the synchronous level and a busy timeout."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from smsgate.store.engine import create_engines
from smsgate.store.interface import StoreError
from smsgate.store.sql_store import SqlStore


@pytest.mark.parametrize(("level", "code"), [("NORMAL", 1), ("FULL", 2)])
async def test_sqlite_is_wal_with_the_chosen_synchronous_level(
    tmp_path: Path, level: str, code: int
) -> None:
    path = tmp_path / "deep" / "dir" / "s.db"
    store = SqlStore(f"sqlite+aiosqlite:///{path}", synchronous=level)
    await store.open()
    try:
        assert path.exists()
        async with store.engines.reader.connect() as conn:
            assert (await conn.scalar(text("PRAGMA journal_mode"))) == "wal"
            assert (await conn.scalar(text("PRAGMA synchronous"))) == code
            assert (await conn.scalar(text("PRAGMA busy_timeout"))) > 0
            assert (await conn.scalar(text("PRAGMA foreign_keys"))) == 1
    finally:
        await store.close()


def test_unknown_synchronous_level_and_engine_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        create_engines(f"sqlite+aiosqlite:///{tmp_path}/s.db", synchronous="FAST")
    with pytest.raises(StoreError):
        create_engines("mysql+aiomysql://u@h/db")
    with pytest.raises(StoreError):
        create_engines("sqlite+aiosqlite:///:memory:")
