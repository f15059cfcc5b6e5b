"""Retention: finished messages older than a cutoff first lose their texts, later their rows
(parts, aliases, outbox items with them); unfinished and newer messages stay whole, and the
accounts' money does not move. Inbound SMS go the same way by the time they came."""

from __future__ import annotations

import asyncio
import time

from smsgate.domain.status import Status
from smsgate.store.interface import Store
from smsgate.store.records import (
    CALLBACKS,
    INBOUND,
    RECEIPTS,
    MessageCallback,
    NewInbound,
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


async def test_old_inbound_sms_lose_their_text_then_their_rows(store: Store) -> None:
    account = (await store.create_account("shop")).id

    def mo(text: str, at: float, account_id: int | None) -> NewInbound:
        return NewInbound(
            source="380501112233",
            destination="7000",
            text=text,
            data_coding=0,
            parts=1,
            total=1,
            connector="op",
            received_at=at,
            account_id=account_id,
            reason="" if account_id else "number 7000 belongs to no account",
        )

    old, lost, recent = await store.store_inbound(
        [
            mo("old", NOW - 10 * DAY, account),
            mo("lost", NOW - 10 * DAY, None),
            mo("recent", NOW - 1 * DAY, account),
        ]
    )
    cutoff = NOW - 5 * DAY
    assert await store.erase_inbound_texts(cutoff, 1) == 1  # at most the limit
    assert await store.erase_inbound_texts(cutoff, 100) == 1
    assert await store.erase_inbound_texts(cutoff, 100) == 0  # already blank
    kept = await store.inbound_after(account, 0, 10)
    assert [(m.id, m.text) for m in kept] == [(old, ""), (recent, "recent")]
    assert [(m.id, m.text) for m in await store.unroutable(0, 10)] == [(lost, "")]

    assert await store.delete_inbound(cutoff, 1) == 1  # at most the limit
    assert await store.delete_inbound(cutoff, 100) == 1
    assert await store.delete_inbound(cutoff, 100) == 0
    assert [m.id for m in await store.inbound_after(account, 0, 10)] == [recent]
    assert await store.unroutable(0, 10) == []

    # Everything old: the newest row stays, text erased, so that no id is handed out twice
    # (SQLite's next id is the highest + 1) and a cursor past it stays valid.
    later = NOW + 10 * DAY
    assert await store.erase_inbound_texts(later, 100) == 1
    assert await store.delete_inbound(later, 100) == 0
    assert [(m.id, m.text) for m in await store.inbound_after(account, 0, 10)] == [(recent, "")]
    (newer,) = await store.store_inbound([mo("newer", later, account)])
    assert newer > recent
    assert [m.text for m in await store.inbound_after(account, recent, 10)] == ["newer"]
    assert await store.delete_inbound(later + 1, 100) == 1  # recent goes once newer is in


async def test_settled_items_no_message_owns_go_with_their_attempts_waiting_ones_stay(
    store: Store,
) -> None:
    account = (await store.create_account("shop")).id
    now = time.time()  # outbox_done stamps the wall clock
    await store.outbox_add([NewOutboxItem(account, INBOUND, now, payload="{}")] * 3)
    delivered, given_up, waiting = await store.outbox_pending(account, 10, kind=INBOUND)
    await store.outbox_done([delivered.id])
    await store.outbox_attempted(
        [OutboxAttempt(given_up.id, now - 10 * DAY, 500, 0.01, "HTTP 500", None, True)]
    )
    assert await store.delete_settled_outbox(now - 5 * DAY, 100) == 1  # the old dead letter
    assert await store.outbox_attempts(given_up.id) == []
    assert await store.delete_settled_outbox(now - 5 * DAY, 100) == 0
    assert await store.delete_settled_outbox(now + 60, 100) == 1  # the delivered one
    assert [i.id for i in await store.outbox_pending(account, 10, kind=INBOUND)] == [waiting.id]


async def test_an_accounts_event_log_loses_its_old_beginning_and_its_seqs_go_on(
    store: Store,
) -> None:
    shop = (await store.create_account("shop")).id
    other = (await store.create_account("other")).id
    for account in (shop, other):
        await store.top_up(account, 100 * PRICE)
    await _message(store, shop, "old 1", NOW - 10 * DAY)
    await _message(store, shop, "old 2", NOW - 9 * DAY)
    await _message(store, other, "old 3", NOW - 10 * DAY)
    await _message(store, shop, "recent", NOW - 1 * DAY)
    before = {a: [e.seq for e in await store.events(a, 0, 100)] for a in (shop, other)}
    assert before == {shop: [1, 2, 3], other: [1]}  # one `accepted` event a message

    cutoff = NOW - 5 * DAY
    assert await store.delete_events(cutoff, 1) == 1  # at most the limit
    assert await store.delete_events(cutoff, 100) == 2
    assert await store.delete_events(cutoff, 100) == 0
    assert [e.seq for e in await store.events(shop, 0, 100)] == [3]
    assert await store.events(other, 0, 100) == []
    await _message(store, other, "new", NOW)
    # The account's counter goes on: a client that read seq 1 is not handed a second seq 1.
    assert [e.seq for e in await store.events(other, 1, 100)] == [2]
