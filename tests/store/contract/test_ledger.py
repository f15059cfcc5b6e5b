"""The money ledger: every top-up, charge, refund and correction of an account, newest first a
page at a time, whose sum is the balance; retention folds deleted messages' charges into one
carried line instead of losing them; usage counts messages, parts and money net of refunds."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

from sqlalchemy import Connection

from smsgate.domain.ids import MAX_ID, first_id_at
from smsgate.domain.status import PartState
from smsgate.store.interface import Store
from smsgate.store.ledger import position_after
from smsgate.store.memory import MemoryStore
from smsgate.store.records import (
    LedgerEntry,
    LedgerKind,
    LedgerPosition,
    OperatorReceipt,
    SubmitDone,
    SubmitFailed,
)
from smsgate.store.sql_store import SqlStore

from ..builders import NOW, PRICE, new_message, request

DAY = 86_400.0
TTL = 30.0


async def _send(store: Store, account: int, text: str, at: float, **kw: object) -> int:
    message = new_message(account, text=text, now=at, **kw)  # type: ignore[arg-type]
    result = await asyncio.wait_for(store.accept(request(account, message, now=at)), 10)
    assert result.outcomes[0].value == "accepted"
    return message.id


async def _whole_ledger(store: Store, account: int, page: int) -> list[LedgerEntry]:
    position = LedgerPosition()
    found: list[LedgerEntry] = []
    for _ in range(100):
        got = await store.ledger_page(account, position, page)
        found.extend(got)
        if len(got) < page:
            return found
        position = position_after(got, position)
    raise AssertionError("the ledger's pages never ended")


async def _assert_balanced(store: Store, account: int) -> None:
    (check,) = await store.ledger_check(account)
    assert check.ok, check
    balance = await store.balance(account)
    assert check.balance == balance.balance
    assert sum(e.amount for e in await _whole_ledger(store, account, 1000)) == balance.balance


async def test_every_move_of_money_is_a_ledger_line_and_the_balance_is_their_sum(
    store: Store,
) -> None:
    account = (await store.create_account("shop")).id
    await store.top_up(account, 100 * PRICE)
    cancelled = await _send(store, account, "cancel me", NOW, parts=2)
    sent = await _send(store, account, "sent", NOW + 1)
    refused = await _send(store, account, "refused", NOW + 2)
    assert await store.cancel(account, cancelled, NOW + 3)
    claimed = {c.message_id: c.part_id for c in await store.claim_parts(1, NOW + 4, 10, TTL)}
    await store.submitted([SubmitDone(claimed[sent], "op", "X1", NOW + 5)])
    await store.failed([SubmitFailed(claimed[refused], PartState.REJECTD, 11, NOW + 6)])
    await store.top_up(account, -PRICE)

    # Newest first; the top-ups are at the wall clock's time, before NOW.
    ledger = await _whole_ledger(store, account, 100)
    assert [(e.kind, e.amount, e.message_id) for e in ledger] == [
        (LedgerKind.REFUND, PRICE, refused),
        (LedgerKind.REFUND, 2 * PRICE, cancelled),
        (LedgerKind.CHARGE, -PRICE, refused),
        (LedgerKind.CHARGE, -PRICE, sent),
        (LedgerKind.CHARGE, -2 * PRICE, cancelled),
        (LedgerKind.ADJUSTMENT, -PRICE, None),
        (LedgerKind.TOP_UP, 100 * PRICE, None),
    ]
    await _assert_balanced(store, account)
    assert (await store.balance(account)).balance == 100 * PRICE - PRICE - PRICE


async def test_pages_follow_each_other_without_skipping_or_repeating(store: Store) -> None:
    account = (await store.create_account("pages")).id
    await store.top_up(account, 1_000 * PRICE)
    for n in range(7):
        mid = await _send(store, account, f"m{n}", NOW + n)
        if n % 3 == 0:
            assert await store.cancel(account, mid, NOW + n + 0.5)
        if n % 2 == 0:
            await store.top_up(account, PRICE)
    whole = await _whole_ledger(store, account, 1000)
    assert len(whole) == 1 + 7 + 3 + 4
    for size in (1, 2, 3, 5):
        assert await _whole_ledger(store, account, size) == whole
    assert [e.at for e in whole] == sorted((e.at for e in whole), reverse=True)
    await _assert_balanced(store, account)


async def test_an_account_sees_only_its_own_ledger(store: Store) -> None:
    mine = (await store.create_account("mine")).id
    other = (await store.create_account("other")).id
    await store.top_up(mine, 10 * PRICE)
    await store.top_up(other, 20 * PRICE)
    await _send(store, other, "theirs", NOW)
    assert [e.kind for e in await _whole_ledger(store, mine, 10)] == [LedgerKind.TOP_UP]
    assert {c.account_id: c.ok for c in await store.ledger_check()} == {mine: True, other: True}


async def test_deleted_messages_charges_are_carried_in_one_line(store: Store) -> None:
    account = (await store.create_account("old")).id
    await store.top_up(account, 100 * PRICE)
    oldest = await _send(store, account, "oldest", NOW - 20 * DAY, parts=3)
    old = await _send(store, account, "old", NOW - 10 * DAY)
    recent = await _send(store, account, "recent", NOW - DAY)
    for at in (NOW - 20 * DAY, NOW - 10 * DAY, NOW - DAY):
        claimed = await store.claim_parts(1, at + 1, 10, TTL)
        await store.submitted(
            [SubmitDone(c.part_id, "op", f"X{c.part_id}", at + 2) for c in claimed]
        )
    assert await store.cancel(account, recent, NOW) is False  # with the operator
    before = await store.balance(account)

    assert await store.delete_messages(NOW - 15 * DAY, 100) == 0  # not final yet
    await _finish(store, account, [oldest, old, recent])
    assert await store.delete_messages(NOW - 15 * DAY, 100) == 1
    await _assert_balanced(store, account)
    assert await store.delete_messages(NOW - 5 * DAY, 100) == 1
    await _assert_balanced(store, account)

    ledger = await _whole_ledger(store, account, 100)
    carried = [e for e in ledger if e.kind is LedgerKind.CARRIED]
    assert [(e.amount, e.at) for e in carried] == [(-4 * PRICE, NOW - 10 * DAY)]
    assert [e.message_id for e in ledger if e.kind is LedgerKind.CHARGE] == [recent]
    assert await store.balance(account) == before


async def _finish(store: Store, account: int, message_ids: list[int]) -> None:
    """Deliver every submitted part of these messages (a receipt per operator id)."""
    receipts = []
    for mid in message_ids:
        for part in await store.message_parts(account, mid):
            assert part.operator_id is not None
            receipts.append(
                OperatorReceipt("op", part.operator_id, PartState.DELIVRD, 0, NOW - DAY + 10)
            )
    await store.apply_receipts(receipts)


async def test_the_check_finds_a_balance_that_is_not_its_ledgers_sum(store: Store) -> None:
    account = (await store.create_account("tampered")).id
    await store.top_up(account, 10 * PRICE)
    await _send(store, account, "one", NOW)
    assert all(c.ok for c in await store.ledger_check())
    await _add_to_balance(store, account, 7)
    (check,) = await store.ledger_check(account)
    assert not check.ok
    assert check.balance - check.ledger == 7


async def _add_to_balance(store: Store, account: int, amount: int) -> None:
    """Money that moves outside every store call: what the check is there to catch."""
    if isinstance(store, MemoryStore):
        store.state.accounts[account].balance += amount
        return
    assert isinstance(store, SqlStore)

    def work(conn: Connection) -> None:
        conn.exec_driver_sql(
            f"UPDATE accounts SET balance = balance + {int(amount)} WHERE id = {int(account)}"
        )

    await asyncio.wait_for(store.engines.writer.run(work), 10)


async def test_usage_counts_messages_parts_and_money_less_refunds_by_group(store: Store) -> None:
    account = (await store.create_account("usage")).id
    await store.top_up(account, 100 * PRICE)
    day = NOW - NOW % DAY  # a UTC midnight
    await _send(store, account, "a", day + 10, parts=2, phone="380501234567")
    refunded = await _send(store, account, "b", day + 20, phone="380671234567")
    await _send(store, account, "c", day + DAY + 5, phone="447700900123")
    await _send(store, account, "outside", day + 3 * DAY, phone="447700900123")
    assert await store.cancel(account, refunded, day + 30)

    by_day = await store.usage(account, day, day + 2 * DAY, "day")
    assert [(r.key, r.messages, r.parts, r.cost) for r in by_day] == [
        (_iso(day), 2, 3, 2 * PRICE),
        (_iso(day + DAY), 1, 1, PRICE),
    ]
    by_status = await store.usage(account, day, day + 2 * DAY, "status")
    assert [(r.key, r.messages, r.cost) for r in by_status] == [
        ("ENROUTE", 2, 3 * PRICE),
        ("REJECTD", 1, 0),
    ]
    by_prefix = await store.usage(account, day, day + 2 * DAY, "prefix")
    assert [(r.key, r.messages, r.parts) for r in by_prefix] == [("380", 2, 3), ("447", 1, 1)]
    assert await store.usage(account, day + 10 * DAY, day + 11 * DAY, "day") == []


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).date().isoformat()


async def test_traffic_counts_messages_by_time_bucket_with_their_outcome(store: Store) -> None:
    account = (await store.create_account("traffic")).id
    await store.top_up(account, 100 * PRICE)
    day = NOW - NOW % DAY  # a UTC midnight

    async def sent(text: str, at: float, *, minted: int | None = None) -> int:
        """A message stored at `at` with the id a node minting it then would give it."""
        given = first_id_at(at) if minted is None else minted
        message = dataclasses.replace(new_message(account, text=text, now=at), id=given)
        result = await asyncio.wait_for(store.accept(request(account, message, now=at)), 10)
        assert result.outcomes[0].value == "accepted"
        return message.id

    await sent("a", day + 10)
    refunded = await sent("b", day + 20)
    await sent("c", day + DAY + 3_605)
    await sent("outside", day + 3 * DAY)
    await sent("old layout", day + DAY + 3_700, minted=MAX_ID + 9)  # ids say nothing of time
    assert await store.cancel(account, refunded, day + 30)  # REJECTD: a failure

    by_day = await store.traffic(account, day, day + 2 * DAY, int(DAY))
    assert [(r.start, r.sent, r.delivered, r.failed) for r in by_day] == [
        (day, 2, 0, 1),
        (day + DAY, 2, 0, 0),
    ]
    by_hour = await store.traffic(account, day, day + 2 * DAY, 3_600)
    assert [(r.start, r.sent) for r in by_hour] == [(day, 2), (day + DAY + 3_600, 2)]
    assert await store.traffic(account, day + 10 * DAY, day + 11 * DAY, 60) == []
