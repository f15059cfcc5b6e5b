"""Idempotency-Keys in memory: the IdempotencyKeys role of MemoryStore."""

from __future__ import annotations

import asyncio

from smsgate.store.memory.state import MemoryBase
from smsgate.store.records import KeyClaim


class MemoryIdempotencyKeys(MemoryBase):
    async def claim_key(
        self, account_id: int, key: str, fingerprint: str, now: float, keep_for: float
    ) -> KeyClaim | None:
        await asyncio.sleep(0)
        self._account(account_id)  # a foreign key in SQL
        held = self.state.idempotency.get((account_id, key))
        if held is not None and held[0] > now - keep_for:
            return held[1]
        self.state.idempotency[(account_id, key)] = (now, KeyClaim(fingerprint, None, None))
        return None

    async def answer_key(self, account_id: int, key: str, status: int, body: bytes) -> None:
        await asyncio.sleep(0)
        held = self.state.idempotency.get((account_id, key))
        if held is not None:
            claim = KeyClaim(held[1].fingerprint, status, body)
            self.state.idempotency[(account_id, key)] = (held[0], claim)

    async def release_key(self, account_id: int, key: str) -> None:
        await asyncio.sleep(0)
        held = self.state.idempotency.get((account_id, key))
        if held is not None and held[1].status is None:
            del self.state.idempotency[(account_id, key)]
