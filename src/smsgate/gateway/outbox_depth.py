"""The outbox's backlog by kind (receipts and inbound SMS for SMPP binds, callbacks, webhooks)
read from the store into smsgate_outbox_depth every few seconds while this node serves metrics:
a receiver that is down or a customer who stopped binding shows as a growing depth.

It reads and never changes the outbox: one count on the outbox's pending index per round, and
no round at all on a node whose metrics nobody scrapes.
"""

from __future__ import annotations

import asyncio
import logging

from smsgate.gateway import metrics
from smsgate.log_limit import LimitedLog
from smsgate.store import roles
from smsgate.store.records import CALLBACKS, INBOUND, RECEIPTS, WEBHOOKS

log = logging.getLogger(__name__)

# Always exported, at 0 when empty: a panel shows a line going back to zero, not a gap.
KINDS = (RECEIPTS, INBOUND, CALLBACKS, WEBHOOKS)


class OutboxDepthWatch:
    def __init__(self, store: roles.Outbox, every: float = 5.0) -> None:
        self._store = store
        self._every = every
        self._quiet = LimitedLog(log, every=60.0)

    async def read(self) -> dict[str, int]:
        """One round: the store's depth by kind, set on the gauge and returned."""
        depth = await self._store.outbox_depth()
        for kind in {*KINDS, *depth}:
            metrics.OUTBOX_DEPTH.labels(kind).set(depth.get(kind, 0))
        return depth

    async def run(self) -> None:
        while True:
            try:
                await self.read()
            except Exception as exc:  # a store in trouble: the gauge keeps its last value
                self._quiet.warning("depth", "outbox depth not read: %s", exc)
            await asyncio.sleep(self._every)
