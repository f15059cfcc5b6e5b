"""The dispatcher's claims in memory: the Claims role of MemoryStore."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from smsgate.domain.status import PartState
from smsgate.store.memory.state import (
    MemoryBase,
    PartRow,
)
from smsgate.store.records import (
    ClaimedPart,
    SubmitFailed,
)


class MemoryClaims(MemoryBase):
    def data_version(self) -> int | None:
        return None  # no sign of commits here: pollers poll (roles.Changes)

    async def changed(self, seen: int | None, timeout: float) -> None:
        await asyncio.sleep(0)  # seen is always None: "changed" at once

    async def claim_parts(
        self, node_id: int, now: float, limit: int, claim_ttl: float
    ) -> list[ClaimedPart]:
        await asyncio.sleep(0)
        if limit <= 0:
            return []
        s = self.state
        due = sorted(
            (
                p
                for p in s.parts.values()
                if p.state == PartState.QUEUED
                and p.due_at <= now
                and s.messages[p.message_id].expires_at > now
            ),
            key=lambda p: (p.due_at, p.id),
        )[:limit]
        claimed = []
        for p in sorted(due, key=lambda p: p.id):
            p.state, p.claimed_by, p.claim_until = PartState.SENDING, node_id, now + claim_ttl
            p.attempts += 1
            m = s.messages[p.message_id]
            claimed.append(
                ClaimedPart(
                    p.id,
                    p.message_id,
                    m.account_id,
                    m.sender,
                    m.phone,
                    m.data_coding,
                    p.seq,
                    p.total,
                    p.concat_ref,
                    p.payload,
                    p.attempts,
                    m.expires_at,
                )
            )
        return claimed

    async def requeue(self, part_ids: Sequence[int], not_before: float) -> None:
        await asyncio.sleep(0)
        for i in set(part_ids):
            p = self.state.parts.get(i)
            if p is not None and p.state == PartState.SENDING:
                p.state, p.due_at = PartState.QUEUED, not_before
                p.claimed_by = p.claim_until = None

    async def failed(self, failures: Sequence[SubmitFailed]) -> None:
        await asyncio.sleep(0)
        if not failures:
            return
        changed: dict[int, PartRow] = {}
        for f in failures:
            p = self.state.parts.get(f.part_id)
            if p is not None:
                p.report(f.state, f.error, f.at)
                changed[p.id] = p
        self._save(changed.values(), max(f.at for f in failures))

    async def expire(self, now: float) -> int:
        await asyncio.sleep(0)
        s = self.state
        lapsed = [
            p
            for p in s.parts.values()
            if p.state == PartState.QUEUED and s.messages[p.message_id].expires_at <= now
        ]
        for p in lapsed:
            p.report(PartState.EXPIRED, 0, now)
        self._save(lapsed, now)
        return len(lapsed)

    async def release_claims(self, now: float, node_id: int | None = None) -> int:
        await asyncio.sleep(0)
        released = 0
        for p in self.state.parts.values():
            if p.state != PartState.SENDING:
                continue
            lapsed = p.claim_until is not None and p.claim_until < now
            if lapsed or (node_id is not None and p.claimed_by == node_id):
                p.state, p.claimed_by, p.claim_until = PartState.QUEUED, None, None
                released += 1
        return released

    async def queue_depth(self) -> int:
        await asyncio.sleep(0)
        return sum(1 for p in self.state.parts.values() if p.state == PartState.QUEUED)

    async def awaiting_receipts(self) -> dict[str, int]:
        await asyncio.sleep(0)
        found: dict[str, int] = {}
        for p in self.state.parts.values():
            if p.state == PartState.SUBMITTED:
                key = p.connector or ""
                found[key] = found.get(key, 0) + 1
        return found
