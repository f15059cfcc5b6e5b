"""Message ids that every node can mint alone, before the answer leaves: Snowflake-style
milliseconds since 2026-01-01 UTC | node id | sequence, inside a signed 64-bit integer.

No I/O and no waiting on the wall clock: when time stalls or runs backwards the generator moves its
own logical clock forward instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable

EPOCH_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
NODE_BITS = 10
SEQUENCE_BITS = 12
TIME_BITS = 63 - NODE_BITS - SEQUENCE_BITS  # 41 bits: about 69 years of milliseconds
MAX_NODE_ID = (1 << NODE_BITS) - 1
_MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1
_MAX_MS = (1 << TIME_BITS) - 1


def split_id(message_id: int) -> tuple[int, int, int]:
    """(milliseconds since the epoch, node id, sequence) of an id."""
    return (
        message_id >> (NODE_BITS + SEQUENCE_BITS),
        (message_id >> SEQUENCE_BITS) & MAX_NODE_ID,
        message_id & _MAX_SEQUENCE,
    )


class IdGenerator:
    """Strictly increasing ids for one node. Not thread-safe: one per event loop."""

    __slots__ = ("_clock", "_last_ms", "_node_part", "_sequence")

    def __init__(self, node_id: int, clock: Callable[[], float] = time.time) -> None:
        if not 0 <= node_id <= MAX_NODE_ID:
            raise ValueError(f"node_id must be 0..{MAX_NODE_ID}, not {node_id}")
        self._node_part = node_id << SEQUENCE_BITS
        self._clock = clock
        self._last_ms = -1
        self._sequence = _MAX_SEQUENCE

    def next(self) -> int:
        now_ms = max(int(self._clock() * 1000) - EPOCH_MS, 0)
        if now_ms > self._last_ms:
            self._last_ms = now_ms
            self._sequence = 0
        elif self._sequence < _MAX_SEQUENCE:
            # Same millisecond, or the clock went back: stay on our own (later) millisecond.
            self._sequence += 1
        else:
            # 4096 ids in one millisecond: borrow the next one rather than wait for it.
            self._last_ms += 1
            self._sequence = 0
        if self._last_ms > _MAX_MS:
            raise OverflowError("message ids exhausted: the clock is past 2095")
        return (self._last_ms << (NODE_BITS + SEQUENCE_BITS)) | self._node_part | self._sequence

    def next_many(self, n: int) -> list[int]:
        """`n` consecutive ids (in increasing order) for one batch."""
        if n < 0:
            raise ValueError("n must not be negative")
        if n == 0:
            return []
        first = self.next()
        if self._sequence + n - 1 <= _MAX_SEQUENCE:
            # The rest fit in this millisecond: the sequence is the low bits, so they are
            # first + 1 … first + n - 1 (what n calls to next() within the millisecond give).
            self._sequence += n - 1
            return list(range(first, first + n))
        return [first, *(self.next() for _ in range(n - 1))]
