"""The SQL store's own mechanics on both engines, beyond the contract every store keeps
(contract/): durability across a reopen, a closed store, the expiry sweep's floor against
other processes' writes, and the query plan of a hot statement."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Connection

from smsgate.domain.status import PartState, Status
from smsgate.store.interface import StoreError
from smsgate.store.records import OperatorReceipt, Outcome, SubmitDone
from smsgate.store.sql_store import SqlStore
from smsgate.store.statements import parts_by_operator

from .builders import NOW, PRICE, new_message, request

TTL = 30.0


async def funded(store: SqlStore, amount: int = 1000 * PRICE) -> int:
    account = await store.create_account("shop")
    await store.top_up(account.id, amount)
    return account.id


async def accepted(store: SqlStore, account: int, **kw: object) -> None:
    message = new_message(account, **kw)  # type: ignore[arg-type]
    result = await asyncio.wait_for(store.accept(request(account, message)), 10)
    assert result.outcomes == (Outcome.ACCEPTED,)


async def test_concurrent_accepts_are_group_committed_and_all_durable(
    store: SqlStore, store_url: str
) -> None:
    account = await funded(store, amount=1000 * PRICE)
    messages = [new_message(account, text=f"m{i}") for i in range(200)]
    results = await asyncio.wait_for(
        asyncio.gather(*(store.accept(request(account, m)) for m in messages)), 30
    )
    assert all(r.outcomes == (Outcome.ACCEPTED,) for r in results)
    await store.close()
    reopened = SqlStore(store_url)
    await reopened.open()
    try:
        statuses = await reopened.statuses(account, [m.id for m in messages])
        assert len(statuses) == 200
        assert (await reopened.balance(account)).reserved == 200 * PRICE
    finally:
        await reopened.close()


async def test_a_closed_store_refuses_calls(store_url: str) -> None:
    s = SqlStore(store_url)
    with pytest.raises(StoreError):
        await s.balance(1)


async def test_expire_scans_the_queue_at_least_every_minute(store: SqlStore) -> None:
    """Parts queued by another process are not seen by this store's floor: a full sweep still
    runs every minute and ends them."""
    account = await funded(store)
    await accepted(store, account, text="long", lifetime=6000)
    assert await store.expire(NOW) == 0

    def shorten(conn: Connection) -> None:
        conn.exec_driver_sql("UPDATE messages SET expires_at = expires_at - 5990")

    await store.engines.writer.run(shorten)  # as another node's accept would leave it
    assert await store.expire(NOW + 30) == 0  # not looked at yet
    assert await store.expire(NOW + 60) == 1


async def test_receipts_find_their_part_by_index_equality_not_a_range_scan(
    tmp_path: Path,
) -> None:
    """SQLite: a receipt lookup must stay an equality search of the operator index, or every
    receipt costs a scan of all submitted parts (PostgreSQL plans by statistics instead)."""
    text, flat = parts_by_operator._sqlite_call((["op"], ["a", "b", "c"]))

    def plan(conn: Connection) -> str:
        driver = conn.connection.driver_connection
        assert driver is not None
        rows = driver.execute(f"EXPLAIN QUERY PLAN {text}", flat)
        return " ".join(str(row[3]) for row in rows)

    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path}/plan.db")
    await store.open()
    try:
        found = await asyncio.wait_for(store.engines.writer.run(plan), 10)
    finally:
        await store.close()
    assert "ix_parts_operator (connector=? AND operator_id=?)" in found


async def test_a_receipt_writes_only_the_part_fields_it_moves(tmp_path: Path) -> None:
    """SQLite: an UPDATE that names an indexed column rewrites that index entry even when the
    value is unchanged, so a part whose connector, operator id, submit time and claim stay as
    loaded (a receipt) is written without them; its operator's answer moves them and is not."""
    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path}/writes.db")
    await store.open()
    statements: list[str] = []

    def trace(conn: Connection) -> None:
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        raw.set_trace_callback(statements.append)

    try:
        account = await funded(store)
        message = new_message(account)
        await asyncio.wait_for(store.accept(request(account, message)), 10)
        await asyncio.wait_for(store.engines.writer.run(trace), 10)
        (part,) = await store.claim_parts(1, NOW, 10, TTL)
        statements.clear()
        await store.submitted([SubmitDone(part.part_id, "op", "X1", NOW + 1)])
        answered = [s for s in statements if s.startswith("UPDATE parts")]
        statements.clear()
        receipt = OperatorReceipt("op", "X1", PartState.DELIVRD, 0, NOW + 5)
        await store.apply_receipts([receipt])
        delivered = [s for s in statements if s.startswith("UPDATE parts")]
        assert await store.statuses(account, [message.id]) == {message.id: Status.DELIVRD}
        kept = await store.engines.writer.run(
            lambda c: c.exec_driver_sql(
                "SELECT connector, operator_id, submitted_at, claimed_by FROM parts"
            ).all()
        )
    finally:
        await store.close()
    assert [s.split(" WHERE")[0] for s in answered] == [
        f"UPDATE parts SET state = {int(PartState.SUBMITTED)}, billing = 1, connector = 'op',"
        " operator_id = 'X1',"
        f" submitted_at = {NOW + 1!r}, done_at = NULL, error = 0, claimed_by = NULL,"
        " claim_until = NULL"
    ]
    assert [s.split(" WHERE")[0] for s in delivered] == [
        f"UPDATE parts SET state = {int(PartState.DELIVRD)}, billing = 1, done_at = {NOW + 5!r},"
        " error = 0"
    ]
    assert [tuple(row) for row in kept] == [("op", "X1", NOW + 1, None)]
