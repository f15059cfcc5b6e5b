"""The receipt watch: parts the operator took whose receipt does not come are asked about with
query_sm (on connectors whose operator supports it) and, at their lifetime's end, ended EXPIRED.

Operators lose receipts (a restart, a receipt held for a bind that never comes back); without
this such parts stayed ENROUTE forever. It must not decide money or statuses itself: a query's
answer goes to the store as a receipt would, and expiry is one store call, so every rule stays
in the store. Every node runs one; a connector is only asked by the node that binds it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from smsgate.gateway.upstream import ParsedReceipt
from smsgate.immutable import record
from smsgate.smpp.client import SmppClientError
from smsgate.store.records import OperatorReceipt, Unreceipted
from smsgate.store.roles import Receipts

log = logging.getLogger(__name__)


class Queried(Protocol):
    """What the watch needs of a connector (gateway.connector.Connector)."""

    @property
    def name(self) -> str: ...
    @property
    def ready(self) -> bool: ...
    @property
    def window(self) -> int: ...
    @property
    def query_after(self) -> float | None: ...

    async def query(self, part: Unreceipted) -> ParsedReceipt | None: ...


@record
class WatchPolicy:
    every: float = 5.0  # seconds between rounds
    # Seconds past a lifetime's end before a part with no receipt ends EXPIRED: an operator
    # that honours the validity period sends its own EXPIRED receipt about then.
    grace: float = 5.0
    query_batch: int = 500  # parts asked about per connector and round
    # Receipts kept unmatched are forgotten once this old (seconds), every `prune_every`: an
    # answer they wait for comes within seconds, or the claim's 300 s at most, or never.
    unmatched_keep: float = 86_400.0
    prune_every: float = 3_600.0


class ReceiptWatch:
    def __init__(
        self,
        store: Receipts,
        connectors: Sequence[Queried],
        *,
        policy: WatchPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._connectors = list(connectors)
        self._policy = policy or WatchPolicy()
        self._clock = clock
        # Per connector: the submit time up to which its parts have been asked about. Each part
        # is asked once, query_after past its submit: one that is still on its way then is
        # left to its receipt or to its lifetime's end.
        self._asked_until: dict[str, float] = {}
        # Per connector: the parts whose lifetime ended that were asked once more (within the
        # grace, before they end EXPIRED). Only the ids still listed are kept: the others ended.
        self._asked_at_end: dict[str, set[int]] = {}
        self._pruned_at = -math.inf

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._policy.every)
            try:
                await self.round()
            except Exception:
                log.exception("receipt watch round failed")

    async def round(self) -> None:
        """Ask each ready connector about its overdue parts, and once more about those whose
        lifetime ended; then expire those whose grace ran out too (asking first lets an
        operator that learnt the outcome since the first question tell it: a receipt it lost
        is not a delivery that failed)."""
        for connector in self._connectors:
            if connector.query_after is not None and connector.ready:
                await self._ask(connector, connector.query_after)
                await self._ask_at_end(connector)
        now = self._clock()
        if now - self._pruned_at >= self._policy.prune_every:
            self._pruned_at = now
            forgotten = await self._store.forget_unmatched(now - self._policy.unmatched_keep)
            if forgotten:
                log.info(
                    "%d receipts matched no part in %.0f s: forgotten",
                    forgotten,
                    self._policy.unmatched_keep,
                    extra={"event": "unmatched_receipts_forgotten", "receipts": forgotten},
                )
        ended = await self._store.expire_unreceipted(now - self._policy.grace, now)
        if ended:
            log.info(
                "%d submitted parts had no receipt at their lifetime's end: EXPIRED",
                ended,
                extra={"event": "parts_expired_unreceipted", "parts": ended},
            )

    async def _ask(self, connector: Queried, query_after: float) -> None:
        after = self._asked_until.get(connector.name, -math.inf)
        parts = await self._store.unreceipted(
            connector.name, after, self._clock() - query_after, self._policy.query_batch
        )
        asked = await self._query(connector, parts)
        if asked:
            after = parts[len(asked) - 1].submitted_at
        self._asked_until[connector.name] = after

    async def _ask_at_end(self, connector: Queried) -> None:
        parts = await self._store.unreceipted_ended(
            connector.name, self._clock(), self._policy.query_batch
        )
        before = self._asked_at_end.get(connector.name, set())
        asked = await self._query(connector, [p for p in parts if p.part_id not in before])
        self._asked_at_end[connector.name] = {p.part_id for p in parts} & (before | asked)

    async def _query(self, connector: Queried, parts: Sequence[Unreceipted]) -> set[int]:
        """Ask about `parts` in chunks of half the window; store the final answers as
        receipts. The ids asked; a chunk that failed is not among them (asked next round)."""
        receipts: list[OperatorReceipt] = []
        asked: set[int] = set()
        window = max(1, connector.window // 2)  # leave half the window to submits
        try:
            for i in range(0, len(parts), window):
                chunk = parts[i : i + window]
                answers = await asyncio.gather(*(connector.query(p) for p in chunk))
                at = self._clock()
                receipts.extend(
                    OperatorReceipt(connector.name, part.operator_id, a.state, a.error, at)
                    for part, a in zip(chunk, answers, strict=True)
                    if a is not None
                )
                asked.update(p.part_id for p in chunk)
        except SmppClientError as error:
            # The bind went down or stopped answering: this chunk is asked again next round.
            log.info("connector %s: query_sm stopped: %s", connector.name, error)
        if receipts:
            await self._store.apply_receipts(receipts)
            log.info(
                "connector %s: query_sm found %d parts final whose receipt had not come",
                connector.name,
                len(receipts),
                extra={"event": "receipts_by_query", "connector": connector.name},
            )
        return asked
