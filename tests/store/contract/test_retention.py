"""Retention: finished messages older than a cutoff first lose their texts, later their rows
(parts, aliases, outbox items with them); unfinished and newer messages stay whole, and the
accounts' money does not move."""

from __future__ import annotations

import asyncio

from smsgate.domain.status import Status
from smsgate.store.interface import Store
from smsgate.store.records import (
    CALLBACKS,
    RECEIPTS,
    MessageCallback,
    NewOutboxItem,
    OutboxAttempt,
)

from ..builders import NOW, PRICE, new_message, request

DAY = 86_400.0


async def _message(store: Store, account: int, text: str, at: float, *, alias: int = 0) -> int:
    message = new_message(account, text=text, now=at, alias_ids=(alias,) if alias else ())
    result = await asyncio.wait_for(store.accept(request(account, message, now=at)), 10)
    assert result.outcomes[0].value == "accepted"
    return message.id


async def test_old_finished_messages_lose_their_text_then_their_rows(store: Store) -> None:
    account = (await store.create_account("shop")).id
    await store.top_up(account, 100 * PRICE)
    old = await _message(store, account, "old", NOW - 10 * DAY, alias=9_000_001)
    assert await store.cancel(account, old, NOW - 10 * DAY + 1)  # finished (REJECTD)
    await store.outbox_add([NewOutboxItem(account, RECEIPTS, NOW - 10 * DAY, message_id=old)])
    waiting = await _message(store, account, "waiting", NOW - 10 * DAY)  # never finished
    recent = await _message(store, account, "recent", NOW - 1 * DAY)
    assert await store.cancel(account, recent, NOW - 1 * DAY + 1)
    money = await store.balance(account)

    cutoff = NOW - 5 * DAY
    assert await store.erase_texts(cutoff, 100) == 1
    assert await store.erase_texts(cutoff, 100) == 0  # already blank
    assert await store.statuses(account, [old]) == {old: Status.REJECTD}  # the row stays

    assert await store.delete_messages(cutoff, 100) == 1
    assert await store.delete_messages(cutoff, 100) == 0
    assert await store.statuses(account, [old, 9_000_001]) == {}
    assert await store.message(account, old) is None
    assert await store.outbox_accounts() == []
    assert await store.statuses(account, [waiting, recent]) == {
        waiting: Status.ENROUTE,
        recent: Status.REJECTD,
    }
    assert await store.balance(account) == money


async def test_a_sweep_takes_at_most_its_limit(store: Store) -> None:
    account = (await store.create_account("bulk")).id
    await store.top_up(account, 100 * PRICE)
    for n in range(5):
        mid = await _message(store, account, f"m{n}", NOW - 10 * DAY)
        assert await store.cancel(account, mid, NOW - 10 * DAY + 1)
    assert [await store.erase_texts(NOW, 2) for _ in range(4)] == [2, 2, 1, 0]
    assert [await store.delete_messages(NOW, 3) for _ in range(3)] == [3, 2, 0]


async def test_a_deleted_message_takes_its_callback_and_the_attempts_logged_for_it(
    store: Store,
) -> None:
    account = (await store.create_account("hooked")).id
    await store.top_up(account, 100 * PRICE)
    hook = MessageCallback("https://example.com/dlr")
    message = new_message(account, text="old", now=NOW - 10 * DAY, callback=hook)
    await asyncio.wait_for(store.accept(request(account, message, now=NOW - 10 * DAY)), 10)
    assert await store.cancel(account, message.id, NOW - 10 * DAY + 1)
    (callback,) = await store.outbox_pending(account, 10, kind=CALLBACKS)
    await store.outbox_attempted([OutboxAttempt(callback.id, NOW - 10 * DAY + 2, 200, 0.01)])
    assert await store.delete_messages(NOW - 5 * DAY, 100) == 1
    assert await store.outbox_attempts(callback.id) == []
    assert await store.message(account, message.id) is None
