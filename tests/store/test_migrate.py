"""Migrations: a fresh database gets the whole schema, reopening changes nothing, and the
revisions create exactly what schema.py describes, on both engines."""

from __future__ import annotations

import asyncio
import time

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from smsgate.store import migrate
from smsgate.store.engine import create_engines
from smsgate.store.records import Outcome
from smsgate.store.schema import accounts, messages, metadata
from smsgate.store.sql_store import SqlStore

from .builders import new_message, request


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


async def test_upgrading_from_0001_carries_recent_dedupe_keys_over(store_url: str) -> None:
    """0002 moved duplicate detection to dedupe_log: a repeat of a message accepted just
    before the upgrade is still refused just after it."""
    now = time.time()
    repeat = new_message(7, now=now)
    engines = create_engines(store_url, synchronous="NORMAL")

    def at_0001(conn: Connection) -> None:
        command.upgrade(migrate.alembic_config(conn), "0001")
        conn.execute(
            accounts.insert().values(
                id=7,
                login="old",
                currency="UAH",
                balance=10**6,
                rate_limit=0.0,
                max_binds=1,
                active=True,
                created_at=0.0,
            )
        )
        conn.execute(
            messages.insert().values(
                id=1,
                account_id=7,
                sender="Shop",
                phone=repeat.phone,
                text=repeat.text,
                data_coding=0,
                parts=1,
                price_per_part=1,
                status="ENROUTE",
                door="json",
                dedupe_key=repeat.dedupe_key,
                created_at=now - 30,
                expires_at=now + 3600,
            )
        )

    try:
        await engines.writer.run(at_0001)
    finally:
        await engines.dispose()
    store = SqlStore(store_url)
    await store.open()
    try:
        result = await store.accept(request(7, repeat, now=now))
        assert result.outcomes == (Outcome.DUPLICATE,)
    finally:
        await store.close()
