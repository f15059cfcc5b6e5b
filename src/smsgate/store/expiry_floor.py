"""A lower bound on when a queued part can next lapse, so that the expiry sweep (every second)
costs nothing while no queued part can have expired, instead of a scan of the whole queue.

A full sweep ends lapsed parts and measures the earliest expiry left in the queue; every write
that puts parts into the queue (accepts, requeues, released claims) lowers the bound *after* it
committed. Lowering after the commit is what makes it safe: a write that committed before a
sweep's transaction began is seen by its scan, and one that committed later lowers the bound
after the sweep began, so the sweep keeps the lower value (`finish` takes the minimum).

Writes of other processes (more nodes, `--workers` siblings) are not seen here: a full sweep
runs anyway every `full_every` seconds, and those processes sweep their own writes. A lapsed part
is never sent meanwhile: the claim itself skips parts of expired messages.
"""

from __future__ import annotations

import math


class ExpiryFloor:
    """Not thread-safe: used from the event loop only. One sweep at a time (the caller
    serialises them)."""

    def __init__(self, *, full_every: float = 60.0) -> None:
        self._full_every = full_every
        self._floor = -math.inf  # unknown until the first sweep
        self._last_full = -math.inf
        self._lowered = math.inf  # the lowest bound given since the running sweep began

    def lower(self, expires_at: float) -> None:
        """Parts whose message lapses at `expires_at` were committed to the queue."""
        if expires_at < self._floor:
            self._floor = expires_at
        if expires_at < self._lowered:
            self._lowered = expires_at

    def forget(self) -> None:
        """Parts of unknown lifetimes were committed to the queue."""
        self.lower(-math.inf)

    def sweep_needed(self, now: float) -> bool:
        return now >= self._floor or now - self._last_full >= self._full_every

    def begin(self) -> None:
        """A full sweep is about to open its transaction."""
        self._lowered = math.inf

    def finish(self, now: float, earliest_left: float | None) -> None:
        """The sweep committed; `earliest_left` is the earliest expiry still queued (None:
        the queue is empty)."""
        left = math.inf if earliest_left is None else earliest_left
        self._floor = min(left, self._lowered)
        self._last_full = now
        self._lowered = math.inf
