"""Submits and receipts per second of each connector, from the counters its /health report
carries since the node started: the difference between the newest sample and the one before,
over the time between them. Kept per process (the operator's live view polls every few seconds);
a first look has no rate yet, and a counter that went back (a restart) starts over.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from smsgate.immutable import record

MIN_SPAN = 1.0  # seconds between the samples a rate is taken over


@record
class Rates:
    submits: float | None  # per second; None before a second sample
    receipts: float | None


class ConnectorRates:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: dict[str, tuple[float, int, int]] = {}

    def observe(self, name: str, report: dict[str, object]) -> Rates:
        submitted, receipts = report.get("submitted"), report.get("receipts")
        if not isinstance(submitted, int) or not isinstance(receipts, int):
            return Rates(None, None)
        now = self._clock()
        before = self._last.get(name)
        if before is None or now - before[0] >= MIN_SPAN:  # two views at once share a sample
            self._last[name] = (now, submitted, receipts)
        if before is None:
            return Rates(None, None)
        at, old_submitted, old_receipts = before
        elapsed = now - at
        if elapsed <= 0 or submitted < old_submitted or receipts < old_receipts:
            self._last[name] = (now, submitted, receipts)
            return Rates(None, None)
        return Rates((submitted - old_submitted) / elapsed, (receipts - old_receipts) / elapsed)
