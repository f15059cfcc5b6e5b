"""Migrations: a fresh database gets the whole schema, reopening changes nothing, and the
revisions create exactly what schema.py describes, on both engines."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from smsgate.store import migrate
from smsgate.store.schema import metadata
from smsgate.store.sql_store import SqlStore


def _diff(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


async def test_fresh_database_is_migrated_to_head(store: SqlStore) -> None:
    async with store.engines.reader.connect() as conn:
        revision = await conn.run_sync(migrate.current_revision)
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert revision == migrate.head_revision()
    assert {t.name for t in metadata.sorted_tables} <= tables


async def test_migrations_create_exactly_the_schema(store: SqlStore) -> None:
    async with store.engines.reader.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_reopening_is_idempotent_and_keeps_data(store_url: str, store: SqlStore) -> None:
    account = await store.create_account("kept")
    await store.close()
    again = SqlStore(store_url)
    await asyncio.wait_for(again.open(), 30)
    try:
        assert await again.account(account.id) == account
    finally:
        await again.close()


async def test_two_nodes_opening_at_once_both_succeed(store_url: str) -> None:
    nodes = [SqlStore(store_url), SqlStore(store_url)]
    await asyncio.wait_for(asyncio.gather(*(n.open() for n in nodes)), 30)
    try:
        assert (await nodes[0].create_account("a")).login == "a"
        assert await nodes[1].credentials("a") is not None
    finally:
        for n in nodes:
            await n.close()
