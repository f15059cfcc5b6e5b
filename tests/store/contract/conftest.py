"""The store's contract: every test here runs against each implementation of the roles, the
in-memory store, SQLite and PostgreSQL (the parent conftest's throwaway cluster), and must
pass on all three alike. Tests of one engine's mechanics live beside this directory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Connection

from smsgate.store.interface import Store
from smsgate.store.memory import MemoryStore
from smsgate.store.sql_store import SqlStore

ENGINES = ("memory", "sqlite", "postgresql")


@pytest.fixture(params=ENGINES)
def engine_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def sql_url(engine_name: str, request: pytest.FixtureRequest) -> str | None:
    """The database URL of a SQL engine (None for the memory store); resolved here, outside
    the event loop, as the parent conftest's async PostgreSQL fixture requires."""
    if engine_name == "memory":
        return None
    return str(request.getfixturevalue("store_url"))


@pytest.fixture
async def store(sql_url: str | None) -> AsyncIterator[Store]:
    s: Store = MemoryStore() if sql_url is None else SqlStore(sql_url, commit_window=0.001)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def second_store(sql_url: str | None, store: Store) -> AsyncIterator[Store]:
    """Another node on the same data: its own engines and writer, or the same memory."""
    s: Store
    if isinstance(store, MemoryStore):
        s = store.sibling(2)
    else:
        assert sql_url is not None
        s = SqlStore(sql_url, node_id=2, commit_window=0.001)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


async def unmatched_receipts(store: Store) -> int:
    """How many operator receipts are kept waiting for their part's answer."""
    if isinstance(store, MemoryStore):
        return len(store.state.unmatched)
    assert isinstance(store, SqlStore)

    def count(conn: Connection) -> int:
        return int(conn.exec_driver_sql("SELECT count(*) FROM unmatched_receipts").scalar_one())

    return await asyncio.wait_for(store.engines.writer.run(count), 10)
