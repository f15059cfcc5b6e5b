"""smsgate_outbox_depth: the store's backlog by kind on the gauge, every kind shown (0 when
empty), and a store in trouble leaves the last values and keeps the watch running."""

from __future__ import annotations

import asyncio
import time

from store.builders import PRICE

from smsgate.gateway.metrics import REGISTRY
from smsgate.gateway.outbox_depth import KINDS, OutboxDepthWatch
from smsgate.store.memory import MemoryStore
from smsgate.store.records import CALLBACKS, WEBHOOKS, NewOutboxItem


def gauge() -> dict[str, float | None]:
    return {k: REGISTRY.get_sample_value("smsgate_outbox_depth", {"kind": k}) for k in KINDS}


async def test_each_kind_waiting_is_on_the_gauge_and_the_others_at_zero() -> None:
    store = MemoryStore()
    account = (await store.create_account("shop")).id
    await store.top_up(account, 10 * PRICE)
    now = time.time()
    await store.outbox_add(
        [NewOutboxItem(account, CALLBACKS, now, payload="{}")] * 2
        + [NewOutboxItem(account, WEBHOOKS, now, payload="{}")]
    )
    assert await OutboxDepthWatch(store).read() == {CALLBACKS: 2, WEBHOOKS: 1}
    assert gauge() == {"receipts": 0, "inbound": 0, CALLBACKS: 2, WEBHOOKS: 1}

    (item, _) = await store.outbox_pending(account, 10, kind=CALLBACKS)
    await store.outbox_done([item.id])
    await OutboxDepthWatch(store).read()
    assert gauge()[CALLBACKS] == 1


class TroubledStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.asked = 0

    async def outbox_depth(self) -> dict[str, int]:
        self.asked += 1
        raise OSError("disk I/O error")


async def test_a_store_in_trouble_keeps_the_last_values_and_the_watch_going() -> None:
    store = TroubledStore()
    before = gauge()
    task = asyncio.ensure_future(OutboxDepthWatch(store, every=0.01).run())
    try:
        deadline = time.monotonic() + 10
        while store.asked < 3:
            assert time.monotonic() < deadline, "the watch stopped asking"
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
    assert gauge() == before
