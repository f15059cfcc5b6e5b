"""Helpers of the HTTP transports' tests: a fast retry policy, a deadline-bounded poll, a
pump run for the length of a block (stopped however the block ends), and the delivery metrics
as one transport's tests read them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from smsgate.gateway.metrics import REGISTRY
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


def deliveries(transport: str) -> dict[str, float]:
    """smsgate_deliveries_total by result, and the attempts timed, for one transport (the
    registry is the process's: tests compare before and after)."""
    counts = {
        result: REGISTRY.get_sample_value(
            "smsgate_deliveries_total", {"transport": transport, "result": result}
        )
        or 0.0
        for result in ("delivered", "retrying", "dead_letter")
    }
    timed = REGISTRY.get_sample_value("smsgate_delivery_seconds_count", {"transport": transport})
    return counts | {"timed": timed or 0.0}


def grown(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}
