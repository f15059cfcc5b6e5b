"""Reading an account's pending outbox items: oldest first, due ones only, and only above a
given id for a reader that has the ones below in hand (the pipelined pump)."""

from __future__ import annotations

import time

from smsgate.store.interface import Store
from smsgate.store.records import CALLBACKS, NewOutboxItem

from .test_progress import funded


async def test_pending_items_above_an_id_are_the_due_ones_past_it_oldest_first(
    store: Store,
) -> None:
    shop, other = await funded(store, "shop"), await funded(store, "other")
    now = time.time()
    await store.outbox_add(
        [
            NewOutboxItem(shop, CALLBACKS, now, payload="{}"),
            NewOutboxItem(shop, CALLBACKS, now, payload="{}"),
            NewOutboxItem(other, CALLBACKS, now, payload="{}"),
            NewOutboxItem(shop, CALLBACKS, now, payload="{}", due_at=now + 3600),  # due later
            NewOutboxItem(shop, CALLBACKS, now, payload="{}"),
        ]
    )
    every = [i.id for i in await store.outbox_pending(shop, 10, kind=CALLBACKS)]
    assert len(every) == 3 and every == sorted(every)
    assert [i.id for i in await store.outbox_pending(shop, 10, kind=CALLBACKS, after=0)] == every
    above = await store.outbox_pending(shop, 10, kind=CALLBACKS, after=every[0])
    assert [i.id for i in above] == every[1:]
    assert [i.id for i in await store.outbox_pending(shop, 1, kind=CALLBACKS, after=every[0])] == [
        every[1]
    ]
    assert await store.outbox_pending(shop, 10, kind=CALLBACKS, after=every[-1]) == []
