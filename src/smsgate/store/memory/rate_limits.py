"""Tokens of requests other than accepts, from the account's rate bucket: the RequestLimits
role of MemoryStore (the bucket accepts and held parts spend too)."""

from __future__ import annotations

import asyncio

from smsgate.domain import ratelimit
from smsgate.store.memory.state import MemoryBase
from smsgate.store.records import RateLimit


class MemoryRequestLimits(MemoryBase):
    async def take_token(self, account_id: int, now: float, limit: RateLimit) -> float | None:
        await asyncio.sleep(0)
        self._account(account_id)
        buckets = self.state.buckets
        bucket, retry_after = ratelimit.take(buckets.get(account_id), now, limit.rate, limit.burst)
        buckets[account_id] = bucket
        return retry_after
