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
from smsgate.store.records import LedgerPosition, Outcome
from smsgate.store.schema import accounts, messages, metadata, parts
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


async def test_upgrading_to_the_ledger_carries_every_balance_in(store_url: str) -> None:
    """0016 starts each account's ledger so that it sums to the balance: refunds already made,
    the charges of messages retention deleted before (carried), and the rest as an opening."""
    engines = create_engines(store_url, synchronous="NORMAL")
    # Topped up 10,000; a 2-part message (100 a part) with one part refunded, one charged; a
    # 1-part message reserved; 500 charged on messages deleted since.
    balance, reserved, charged = 10_000 - 300 - 500 + 100, 100, 100 + 500

    def at_0015(conn: Connection) -> None:
        command.upgrade(migrate.alembic_config(conn), "0015")
        conn.execute(
            accounts.insert().values(
                id=7,
                login="old",
                currency="UAH",
                balance=balance,
                reserved=reserved,
                charged=charged,
                rate_limit=0.0,
                max_binds=1,
                active=True,
                created_at=0.0,
            )
        )
        for mid, count in ((1, 2), (2, 1)):
            conn.execute(
                messages.insert().values(
                    id=mid,
                    account_id=7,
                    sender="Shop",
                    phone="380501234567",
                    text="t",
                    data_coding=0,
                    parts=count,
                    price_per_part=100,
                    status="ENROUTE",
                    door="json",
                    dedupe_key=b"k%d" % mid,
                    created_at=10.0 * mid,
                    expires_at=1e10,
                )
            )
        for pid, mid, seq, billing in ((11, 1, 1, 2), (12, 1, 2, 1), (21, 2, 1, 0)):
            conn.execute(
                parts.insert().values(
                    id=pid,
                    message_id=mid,
                    seq=seq,
                    total=2 if mid == 1 else 1,
                    concat_ref=1,
                    payload=b"",
                    state=3 if billing == 2 else 2 if billing == 1 else 0,
                    billing=billing,
                    due_at=0.0,
                    done_at=15.0 if billing == 2 else None,
                )
            )

    try:
        await engines.writer.run(at_0015)
    finally:
        await engines.dispose()
    store = SqlStore(store_url)
    await store.open()
    try:
        (check,) = await store.ledger_check(7)
        assert check.ok, check
        page = await store.ledger_page(7, LedgerPosition(), 10)
        assert sorted((e.kind.value, e.amount, e.message_id) for e in page) == [
            ("carried", -500, None),
            ("charge", -200, 1),
            ("charge", -100, 2),
            ("opening", 10_000, None),
            ("refund", 100, 1),
        ]
    finally:
        await store.close()


async def test_upgrading_to_the_traffic_hours_counts_the_messages_already_stored(
    store_url: str,
) -> None:
    """0022 fills the per-hour counts from the messages there are, so the charts' traffic is
    the same after the upgrade; what happens next adds to those counts."""
    engines = create_engines(store_url, synchronous="NORMAL")
    hour = 3_600.0 * 500_000  # an hour's start
    stored = [  # (id, account, created_at, status)
        (1, 7, hour + 1, "DELIVRD"),
        (2, 7, hour + 2, "UNDELIV"),
        (3, 7, hour + 3_599.5, "ENROUTE"),
        (4, 7, hour + 3_600, "EXPIRED"),
        (5, 7, hour + 7_000, "REJECTD"),
        (6, 8, hour + 10, "DELIVRD"),
    ]

    def at_0021(conn: Connection) -> None:
        command.upgrade(migrate.alembic_config(conn), "0021")
        for account in (7, 8):
            conn.execute(
                accounts.insert().values(
                    id=account,
                    login=f"old{account}",
                    currency="UAH",
                    balance=0,
                    rate_limit=0.0,
                    max_binds=1,
                    active=True,
                    created_at=0.0,
                )
            )
        for mid, account, at, status in stored:
            conn.execute(
                messages.insert().values(
                    id=mid,  # the old layout: ids say nothing of the time
                    account_id=account,
                    sender="Shop",
                    phone="380501234567",
                    text="t",
                    data_coding=0,
                    parts=1,
                    price_per_part=0,
                    status=status,
                    door="json",
                    dedupe_key=b"k%d" % mid,
                    created_at=at,
                    expires_at=at + 60,
                )
            )

    try:
        await engines.writer.run(at_0021)
    finally:
        await engines.dispose()
    store = SqlStore(store_url)
    await store.open()
    try:
        rows = await store.traffic(7, hour, hour + 3 * 3_600, 3_600)
        assert [(r.start, r.sent, r.delivered, r.failed) for r in rows] == [
            (hour, 3, 1, 1),
            (hour + 3_600, 2, 0, 2),
        ]
        (day,) = await store.traffic(8, hour - hour % 86_400, hour - hour % 86_400 + 86_400, 86_400)
        assert (day.sent, day.delivered, day.failed) == (1, 1, 0)
        late = new_message(7, now=hour + 20, price=0)
        assert (await store.accept(request(7, late, now=hour + 20))).outcomes == (Outcome.ACCEPTED,)
        (first, _) = await store.traffic(7, hour, hour + 3 * 3_600, 3_600)
        assert (first.start, first.sent, first.delivered, first.failed) == (hour, 4, 1, 1)
    finally:
        await store.close()
