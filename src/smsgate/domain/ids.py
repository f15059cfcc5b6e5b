"""Message ids that every node can mint alone, before the answer leaves, and that fit in
2^53 - 1 so a client parsing them as JSON numbers (JavaScript, `JSON.parse`) keeps them exact.

Layout, 53 bits: ticks of 10 ms since 2026-01-01 UTC (37 bits) | node id (5) | sequence (11).
- 37 bits of 10 ms last 43.5 years: ids run out in mid 2069 (the generator raises, never wraps).
- 32 node ids (0..31): live nodes sharing one database each lease their own.
- 2,048 ids per tick: 204,800 ids a second per node, sustained (a message takes one id for
  itself and one per part). A burst above that borrows later ticks instead of waiting.
Ids of one node strictly increase. No I/O and no waiting on the wall clock: when time stalls or
runs backwards the generator moves its own logical clock forward instead.

Unique across restarts without any stored state: a new generator starts `restart_margin`
seconds ahead of its clock, past every id of its node's previous life unless that life was
still further ahead of the clock when the new one started. A life starts the margin ahead and
falls back onto the clock as time passes; only bursts above the sustained rate push it further
(1 s of margin is 204,800 ids beyond that rate, and a node takes longer than 1 s to restart).

Ids of the earlier 63-bit layout (milliseconds << 22, 18 digits by now) are all above 2^53 when
minted after 2026-01-25, so they never meet the new ones; they stay valid wherever ids are read.
"""

from __future__ import annotations

import time
from collections.abc import Callable

TICKS_PER_SECOND = 100  # 10 ms ticks
EPOCH_TICKS = 1_767_225_600 * TICKS_PER_SECOND  # 2026-01-01T00:00:00Z
ID_BITS = 53
NODE_BITS = 5
SEQUENCE_BITS = 11
TIME_BITS = ID_BITS - NODE_BITS - SEQUENCE_BITS  # 37
MAX_ID = (1 << ID_BITS) - 1
MAX_NODE_ID = (1 << NODE_BITS) - 1
IDS_PER_TICK = 1 << SEQUENCE_BITS
_MAX_SEQUENCE = IDS_PER_TICK - 1
_MAX_TICK = (1 << TIME_BITS) - 1
_TICK_SHIFT = NODE_BITS + SEQUENCE_BITS
RESTART_MARGIN = 1.0  # seconds; see the module docstring


def split_id(message_id: int) -> tuple[int, int, int]:
    """(10 ms ticks since the epoch, node id, sequence) of an id."""
    return (
        message_id >> _TICK_SHIFT,
        (message_id >> SEQUENCE_BITS) & MAX_NODE_ID,
        message_id & _MAX_SEQUENCE,
    )


def first_id_at(epoch: float) -> int:
    """The smallest id a node can mint at `epoch` (seconds): time ranges become id ranges.
    Clamped to 0 and to one past MAX_ID, so any time gives a usable bound."""
    tick = int(epoch * TICKS_PER_SECOND) - EPOCH_TICKS
    if tick <= 0:
        return 0
    return min(tick, _MAX_TICK + 1) << _TICK_SHIFT


class IdGenerator:
    """Strictly increasing ids for one node. Not thread-safe: one per event loop."""

    __slots__ = ("_clock", "_last_tick", "_node_part", "_sequence")

    def __init__(
        self,
        node_id: int,
        clock: Callable[[], float] = time.time,
        *,
        restart_margin: float = RESTART_MARGIN,
    ) -> None:
        if not 0 <= node_id <= MAX_NODE_ID:
            raise ValueError(f"node_id must be 0..{MAX_NODE_ID}, not {node_id}")
        if restart_margin < 0:
            raise ValueError("restart_margin must not be negative")
        self._node_part = node_id << SEQUENCE_BITS
        self._clock = clock
        # The first id goes to the tick after this one (the sequence reads as used up).
        self._last_tick = self._now() + round(restart_margin * TICKS_PER_SECOND) - 1
        self._sequence = _MAX_SEQUENCE

    def _now(self) -> int:
        return max(int(self._clock() * TICKS_PER_SECOND) - EPOCH_TICKS, 0)

    def next(self) -> int:
        now = self._now()
        if now > self._last_tick:
            self._last_tick = now
            self._sequence = 0
        elif self._sequence < _MAX_SEQUENCE:
            # Same tick, or the clock went back: stay on our own (later) tick.
            self._sequence += 1
        else:
            # The tick's ids are used up: borrow the next tick rather than wait for it.
            self._last_tick += 1
            self._sequence = 0
        if self._last_tick > _MAX_TICK:
            raise OverflowError("message ids exhausted: the clock is past 2069")
        return (self._last_tick << _TICK_SHIFT) | self._node_part | self._sequence

    def next_many(self, n: int) -> list[int]:
        """`n` consecutive ids (in increasing order) for one batch."""
        if n < 0:
            raise ValueError("n must not be negative")
        if n == 0:
            return []
        first = self.next()
        if self._sequence + n - 1 <= _MAX_SEQUENCE:
            # The rest fit in this tick: the sequence is the low bits, so they are
            # first + 1 … first + n - 1 (what n calls to next() within the tick give).
            self._sequence += n - 1
            return list(range(first, first + n))
        return [first, *(self.next() for _ in range(n - 1))]
