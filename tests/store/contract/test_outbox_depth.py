"""The outbox's backlog by kind, as the metrics read it: what is neither delivered nor given
up, due now or later, every account's."""

from __future__ import annotations

import time

from smsgate.store.interface import Store
from smsgate.store.records import CALLBACKS, WEBHOOKS, NewOutboxItem, OutboxAttempt

from .test_progress import funded


async def test_the_depth_counts_what_waits_by_kind_until_delivered_or_given_up(
    store: Store,
) -> None:
    shop, other = await funded(store, "shop"), await funded(store, "other")
    assert await store.outbox_depth() == {}
    now = time.time()
    await store.outbox_add(
        [
            NewOutboxItem(shop, CALLBACKS, now, payload="{}"),
            NewOutboxItem(shop, CALLBACKS, now, payload="{}"),
            NewOutboxItem(other, CALLBACKS, now, payload="{}"),
            NewOutboxItem(shop, WEBHOOKS, now, payload="{}"),
            NewOutboxItem(other, WEBHOOKS, now, payload="{}", due_at=now + 3600),  # due later
        ]
    )
    assert await store.outbox_depth() == {CALLBACKS: 3, WEBHOOKS: 2}

    delivered, given_up = await store.outbox_pending(shop, 10, kind=CALLBACKS)
    await store.outbox_done([delivered.id])
    await store.outbox_attempted(
        [OutboxAttempt(given_up.id, now, 404, 0.01, "HTTP 404", None, True)]
    )
    (retried,) = await store.outbox_pending(shop, 10, kind=WEBHOOKS)
    await store.outbox_attempted([OutboxAttempt(retried.id, now, 500, 0.01, "HTTP 500", now + 60)])
    assert await store.outbox_depth() == {CALLBACKS: 1, WEBHOOKS: 2}
