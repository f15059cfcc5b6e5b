"""Scheduled messages: their parts are not due before send_at, so no node claims them early
and one node claims them once due; cancelling before then refunds them."""

from __future__ import annotations

from dataclasses import replace

from smsgate.store.interface import Store

from ..builders import NOW, PRICE, new_message, request


async def test_a_scheduled_message_is_claimed_once_due_and_by_one_node(
    store: Store, second_store: Store
) -> None:
    shop = await store.create_account("shop")
    await store.top_up(shop.id, 10 * PRICE)
    later = replace(new_message(shop.id, text="later", lifetime=7200.0), send_at=NOW + 600)
    now = new_message(shop.id, text="now")
    await store.accept(request(shop.id, later, now))

    first = await store.claim_parts(1, NOW + 1, 10, 30.0)
    assert [c.message_id for c in first] == [now.id]
    assert await second_store.claim_parts(2, NOW + 599, 10, 30.0) == []
    due = await store.claim_parts(1, NOW + 600, 10, 30.0)
    again = await second_store.claim_parts(2, NOW + 600, 10, 30.0)
    assert [c.message_id for c in due] == [later.id] and again == []


async def test_cancelling_a_scheduled_message_refunds_it(store: Store) -> None:
    shop = await store.create_account("shop")
    await store.top_up(shop.id, 10 * PRICE)
    later = replace(new_message(shop.id, text="later"), send_at=NOW + 600)
    await store.accept(request(shop.id, later))
    assert (await store.balance(shop.id)).balance == 9 * PRICE
    assert await store.cancel(shop.id, later.id, NOW + 1)
    assert (await store.balance(shop.id)).balance == 10 * PRICE
    assert await store.claim_parts(1, NOW + 600, 10, 30.0) == []
