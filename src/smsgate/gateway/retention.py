"""Data retention: finished messages' texts erased after [retention] erase_text_after_days,
their rows deleted after delete_after_days, and inbound SMS alike by the time they came;
account balances (the ledger) are never touched.

One node sweeps at a time, the holder of the `retention` lease, so many nodes on one database
do not repeat each other's deletes. Each call to the store takes at most `batch` messages, so
a sweep over a large backlog never holds the writer for long.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from smsgate.immutable import record
from smsgate.store import roles

log = logging.getLogger(__name__)

LEASE_KEY = "retention"
# What a sweep counts (its log line's fields).
_COUNTS = (
    "erased",
    "deleted",
    "inbound_erased",
    "inbound_deleted",
    "outbox_deleted",
    "events_deleted",
)
DAY = 86_400.0


class RetentionStore(roles.Retention, roles.Leases, Protocol):
    """What the sweeper asks of the store."""


@record
class RetentionPolicy:
    erase_text_after: float | None = None  # seconds; None keeps texts
    delete_after: float | None = None  # seconds; None keeps rows
    every: float = 3600.0  # seconds between sweeps
    batch: int = 1000  # messages per store call


class RetentionSweeper:
    def __init__(
        self,
        store: RetentionStore,
        holder: str,
        policy: RetentionPolicy,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._holder = holder
        self._policy = policy
        self._clock = clock

    async def sweep(self) -> tuple[int, int]:
        """One sweep if this node holds (or takes) the lease: (texts erased, rows deleted) of
        sent messages and inbound SMS together; the log line has every count."""
        policy = self._policy
        store = self._store
        now = self._clock()
        # Held for two rounds: a node that dies mid-sweep leaves it to another after that.
        if not await store.take_lease(LEASE_KEY, self._holder, now, 2 * policy.every):
            return (0, 0)
        done = dict.fromkeys(_COUNTS, 0)
        if policy.erase_text_after is not None:
            cutoff = now - policy.erase_text_after
            done["erased"] = await self._drain(store.erase_texts, cutoff)
            done["inbound_erased"] = await self._drain(store.erase_inbound_texts, cutoff)
        if policy.delete_after is not None:
            cutoff = now - policy.delete_after
            done["deleted"] = await self._drain(store.delete_messages, cutoff)
            done["inbound_deleted"] = await self._drain(store.delete_inbound, cutoff)
            done["outbox_deleted"] = await self._drain(store.delete_settled_outbox, cutoff)
            done["events_deleted"] = await self._drain(store.delete_events, cutoff)
        if any(done.values()):
            log.info(
                "retention: %(erased)d message texts erased, %(deleted)d messages deleted; "
                "inbound SMS: %(inbound_erased)d texts erased, %(inbound_deleted)d deleted; "
                "%(outbox_deleted)d delivered inbound items and %(events_deleted)d events deleted",
                done,
                extra={"event": "retention", **done},
            )
        return (
            done["erased"] + done["inbound_erased"],
            done["deleted"] + done["inbound_deleted"],
        )

    async def _drain(self, call: Callable[[float, int], Awaitable[int]], before: float) -> int:
        done = 0
        while True:
            count = await call(before, self._policy.batch)
            done += count
            if count < self._policy.batch:
                return done

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("retention sweep failed")
            await asyncio.sleep(self._policy.every)
