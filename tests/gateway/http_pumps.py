"""Helpers of the HTTP transports' tests: a fast retry policy, a deadline-bounded poll, and a
pump run for the length of a block (stopped however the block ends)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from smsgate.gateway.outbox.pump import OutboxPump
from smsgate.webhooks.delivery_policy import RetryPolicy

# Retries come fast here: 50 ms, 100 ms, ... (jitter off so the tests read plainly).
FAST = RetryPolicy(first_delay=0.05, factor=2.0, max_delay=0.2, jitter=0.0)


async def until(check: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def started(pump: OutboxPump) -> AsyncIterator[OutboxPump]:
    await pump.start()
    try:
        yield pump
    finally:
        await pump.stop()
