"""Parts of long SMPP messages held in memory until whole: the HeldParts role of MemoryStore."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import defaultdict

from smsgate.domain import ratelimit
from smsgate.domain.status import Status
from smsgate.store.memory.state import (
    GroupKey,
    HeldRow,
    MemoryBase,
    MessageRow,
)
from smsgate.store.records import (
    HeldDue,
    HeldPart,
    HoldResult,
    RateLimit,
    RefusedMessage,
)


class MemoryHeldParts(MemoryBase):
    def _group(self, key: GroupKey) -> list[HeldRow]:
        return sorted(
            (h for h in self.state.held.values() if _key(h.part) == key),
            key=lambda h: h.part.seq,
        )

    async def hold_part(
        self, part: HeldPart, now: float, claim_for: float, rate_limit: RateLimit | None = None
    ) -> HoldResult:
        await asyncio.sleep(0)
        self._account(part.account_id)
        if rate_limit is not None:
            bucket, retry_after = ratelimit.take(
                self.state.buckets.get(part.account_id), now, rate_limit.rate, rate_limit.burst
            )
            if retry_after is not None:
                return HoldResult(0, retry_after=retry_after)
            self.state.buckets[part.account_id] = bucket
        group = self._group(_key(part))
        by_seq = {h.part.seq: h.part.id for h in group}
        if any(h.claimed_until is not None for h in group):
            # Its message is complete and being finished: a late copy of one of its parts.
            return HoldResult(by_seq.get(part.seq, min(by_seq.values())))
        existing = by_seq.get(part.seq)
        if existing is not None:
            held = self.state.held[existing]
            held.part = dataclasses.replace(
                held.part,
                data_coding=part.data_coding,
                payload=part.payload,
                wants_receipt=part.wants_receipt,
                lifetime=part.lifetime,
            )
            return HoldResult(existing)
        self.state.held[part.id] = HeldRow(part)
        if len(group) + 1 < part.total:
            return HoldResult(part.id)
        return HoldResult(part.id, self._claim_group(_key(part), now + claim_for))

    def _claim_group(self, key: GroupKey, until: float) -> tuple[HeldPart, ...]:
        group = self._group(key)
        for h in group:
            h.claimed_until = until
        return tuple(h.part for h in group)

    async def held_due(self, now: float, incomplete_before: float, claim_for: float) -> HeldDue:
        await asyncio.sleep(0)
        groups: dict[GroupKey, list[HeldRow]] = defaultdict(list)
        for h in self.state.held.values():
            groups[_key(h.part)].append(h)
        complete: list[tuple[HeldPart, ...]] = []
        incomplete: list[tuple[HeldPart, ...]] = []
        for key, group in sorted(groups.items()):
            claims = [h.claimed_until for h in group if h.claimed_until is not None]
            claimed = max(claims) if claims else None
            if claimed is not None and claimed >= now:
                continue
            whole = len(group) >= key[4]
            first_at = min(h.part.received_at for h in group)
            if not whole and claimed is None and first_at >= incomplete_before:
                continue
            (complete if whole else incomplete).append(self._claim_group(key, now + claim_for))
        return HeldDue(complete, incomplete)

    async def refuse_held(self, refused: RefusedMessage) -> bool:
        await asyncio.sleep(0)
        s = self.state
        parts = refused.parts
        if not all(p.id in s.held for p in parts):
            return False
        for p in parts:
            del s.held[p.id]
        first, now = parts[0], refused.now
        s.messages[first.id] = MessageRow(
            first.account_id,
            first.source,
            refused.phone,
            refused.text,
            first.data_coding,
            first.total,
            now,
            now,
            Status.REJECTD,
            now,
            refused.error,
        )
        for p in parts[1:]:
            s.aliases[p.id] = first.id
        for p in parts:
            if p.wants_receipt:
                self._queue_receipt(
                    first.account_id, first.id, p.id, Status.REJECTD, refused.error, now
                )
        return True


def _key(part: HeldPart) -> GroupKey:
    return (part.account_id, part.source, part.destination, part.ref, part.total)
