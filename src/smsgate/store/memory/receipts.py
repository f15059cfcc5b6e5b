"""Operator answers and receipts in memory: the Receipts role of MemoryStore; a receipt that
comes before its part's answer waits (unmatched) until the answer is recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from smsgate.domain.status import PartState, Status
from smsgate.store.memory.state import (
    MemoryBase,
    PartRow,
)
from smsgate.store.records import (
    OperatorReceipt,
    SubmitDone,
    Unreceipted,
)
from smsgate.store.webhook_events import status_event


class MemoryReceipts(MemoryBase):
    async def submitted(self, done: Sequence[SubmitDone]) -> None:
        await asyncio.sleep(0)
        self._apply_receipts((), done)

    async def apply_receipts(
        self, receipts: Sequence[OperatorReceipt], answers: Sequence[SubmitDone] = ()
    ) -> None:
        await asyncio.sleep(0)
        self._apply_receipts(receipts, answers)

    async def unreceipted(
        self, connector: str, submitted_after: float, submitted_before: float, limit: int
    ) -> list[Unreceipted]:
        await asyncio.sleep(0)
        s = self.state
        found = sorted(
            (p.submitted_at, p.id, p.operator_id, s.messages[p.message_id].sender)
            for p in s.parts.values()
            if p.state == PartState.SUBMITTED
            and p.connector == connector
            and p.operator_id is not None
            and p.submitted_at is not None
            and submitted_after < p.submitted_at <= submitted_before
        )[: max(limit, 0)]
        return [Unreceipted(i, o, sender, at) for at, i, o, sender in found]

    async def unreceipted_ended(
        self, connector: str, ended_before: float, limit: int
    ) -> list[Unreceipted]:
        await asyncio.sleep(0)
        s = self.state
        found = sorted(
            (
                s.messages[p.message_id].expires_at,
                p.id,
                p.operator_id,
                s.messages[p.message_id].sender,
                p.submitted_at,
            )
            for p in s.parts.values()
            if p.state == PartState.SUBMITTED
            and p.connector == connector
            and p.operator_id is not None
            and p.submitted_at is not None
            and s.messages[p.message_id].expires_at < ended_before
        )[: max(limit, 0)]
        return [Unreceipted(i, o, sender, at) for _, i, o, sender, at in found]

    async def forget_unmatched(self, received_before: float) -> int:
        await asyncio.sleep(0)
        s = self.state
        kept = [r for r in s.unmatched if r.at >= received_before]
        forgotten = len(s.unmatched) - len(kept)
        s.unmatched = kept
        return forgotten

    async def expire_unreceipted(self, lapsed_before: float, now: float) -> int:
        await asyncio.sleep(0)
        s = self.state
        lapsed = [
            p
            for p in s.parts.values()
            if p.state == PartState.SUBMITTED
            and s.messages[p.message_id].expires_at < lapsed_before
        ]
        for p in lapsed:
            p.report(PartState.EXPIRED, 0, now)
        self._save(lapsed, now)
        return len(lapsed)

    def _apply_receipts(
        self, receipts: Sequence[OperatorReceipt], answers: Sequence[SubmitDone]
    ) -> None:
        if not receipts and not answers:
            return
        s = self.state
        touched: dict[int, PartRow] = {}
        for d in answers:
            p = s.parts.get(d.part_id)
            if p is None:
                continue
            if p.connector is not None and p.operator_id is not None:
                old = (p.connector, p.operator_id)
                if s.by_operator.get(old) == p.id:  # answered again: its old id is gone
                    del s.by_operator[old]
            p.connector, p.operator_id, p.submitted_at = d.connector, d.operator_id, d.at
            s.by_operator.setdefault((d.connector, d.operator_id), p.id)
            p.report(PartState.SUBMITTED, 0, d.at)
            if p.state == PartState.SUBMITTED:
                p.claimed_by = p.claim_until = None
            touched[p.id] = p
        if touched:  # receipts that came before these answers
            mine = {(p.connector, p.operator_id): p for p in touched.values()}
            kept = []
            for r in s.unmatched:
                p = mine.get((r.connector, r.operator_id))
                if p is None:
                    kept.append(r)
                else:
                    p.report(r.state, r.error, r.at)
            s.unmatched = kept
        for r in receipts:
            found = s.by_operator.get((r.connector, r.operator_id))
            if found is None:
                s.unmatched.append(r)
                continue
            p = s.parts[found]
            p.report(r.state, r.error, r.at)
            touched[p.id] = p
        if touched:
            at = max([r.at for r in receipts] + [d.at for d in answers])
            answered = {s.parts[d.part_id].message_id for d in answers if d.part_id in s.parts}
            self._save(touched.values(), at)
            # Messages on their way (progress.announce_submitted): one callback and one
            # message.status.all webhook each.
            for mid in sorted(answered):
                m = s.messages[mid]
                if m.status is Status.ENROUTE:
                    self._queue_callback(mid, at)
                    self._queue_webhooks([status_event(m.account_id, mid, Status.ENROUTE, 0, at)])
