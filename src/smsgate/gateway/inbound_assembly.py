"""Joins the parts of concatenated inbound SMS (MO) into whole messages, in any arrival order.

A pure class like smpp/session.py: it is given parts and times (from a monotonic clock: they
never decrease) and returns messages; it never reads a clock, sleeps or stores.

A part seen twice (operators redeliver) is ignored, also for `timeout` after its message was
released: a released message keeps a hash of each part, so a late copy is known while a new
message that reuses the reference is not. A message whose parts stop coming is released after
`timeout` as what arrived, marked incomplete, so an inbound SMS is never dropped. Memory is
bounded: past `max_pending` messages or `max_pending_bytes` octets in assembly, the oldest is
released incomplete early.

Text is decoded once, from the joined octets (domain/segments.decode_payload), so a UCS-2
surrogate pair or a GSM-7 escape split between two parts comes out whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smsgate.domain.segments import decode_payload
from smsgate.immutable import record
from smsgate.smpp.inbound_part import InboundPart
from smsgate.smpp.udh import Concat

DEFAULT_TIMEOUT = 300.0  # seconds from a message's first part; operators send parts together


@record
class InboundMessage:
    source: str
    destination: str
    text: str
    data_coding: int
    parts: int  # distinct parts that arrived
    total: int  # parts the message said it had
    first_at: float  # when its first part arrived
    missing: tuple[int, ...] = ()  # sequence numbers that never came
    key: tuple[str, str, int, int, bool] | None = None  # its parts' key; None: one part

    @property
    def complete(self) -> bool:
        return not self.missing


# (source, destination, reference, total, 16-bit reference space)
_Key = tuple[str, str, int, int, bool]


@dataclass(slots=True)
class _Pending:
    first: InboundPart
    first_at: float
    parts: dict[int, bytes] = field(default_factory=dict)
    size: int = 0


class Reassembly:
    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_pending: int = 10_000,
        max_pending_bytes: int = 32 * 1024 * 1024,
    ) -> None:
        if timeout <= 0 or max_pending < 1 or max_pending_bytes < 1:
            raise ValueError("timeout, max_pending and max_pending_bytes are positive")
        self.timeout = timeout
        self.max_pending = max_pending
        self.max_pending_bytes = max_pending_bytes
        self.duplicates = 0  # parts ignored because their message already had them
        self._pending: dict[_Key, _Pending] = {}  # insertion order is first-part order
        self._bytes = 0
        # Released messages: when, and each part's hash, to know late copies; in release order.
        self._released: dict[_Key, tuple[float, dict[int, int]]] = {}

    @property
    def pending(self) -> int:
        """Messages waiting for parts."""
        return len(self._pending)

    def seen(self, part: InboundPart) -> bool:
        """Whether `add` would ignore `part` as a copy of one it has (or recently released)."""
        concat = part.concat
        if concat is None:
            return False
        key = key_of(part, concat)
        pending = self._pending.get(key)
        if pending is not None:
            return concat.seq in pending.parts
        released = self._released.get(key)
        return released is not None and released[1].get(concat.seq) == hash(part.payload)

    def add(self, part: InboundPart, now: float) -> list[InboundMessage]:
        """Take one part arriving at `now`; return the messages it makes ready: the one it
        completes (or itself, when not concatenated), and any released early to stay within
        the memory bounds."""
        concat = part.concat
        if concat is None:
            return [_message(part, now, {1: part.payload}, 1)]
        key = key_of(part, concat)
        pending = self._pending.get(key)
        if pending is None:
            released = self._released.get(key)
            if released is not None:
                if released[1].get(concat.seq) == hash(part.payload):
                    self.duplicates += 1  # a late copy of a part already released
                    return []
                del self._released[key]  # a new message that reuses the reference
            pending = self._pending[key] = _Pending(part, now)
        if concat.seq in pending.parts:
            self.duplicates += 1
            return []
        pending.parts[concat.seq] = part.payload
        pending.size += len(part.payload)
        self._bytes += len(part.payload)
        ready: list[InboundMessage] = []
        if len(pending.parts) == concat.total:
            ready.append(self._release(key, now))
        while self._pending and (
            len(self._pending) > self.max_pending or self._bytes > self.max_pending_bytes
        ):
            ready.append(self._release(next(iter(self._pending)), now))
        return ready

    def expire(self, now: float) -> list[InboundMessage]:
        """Release, incomplete, every message whose first part came `timeout` ago or more."""
        ready: list[InboundMessage] = []
        while self._pending:
            key, oldest = next(iter(self._pending.items()))
            if oldest.first_at + self.timeout > now:
                break  # entries are in first-part order: the rest are younger
            ready.append(self._release(key, now))
        while self._released:
            key, (released_at, _) = next(iter(self._released.items()))
            if released_at + self.timeout > now:
                break
            del self._released[key]
        return ready

    def next_deadline(self) -> float | None:
        """When `expire` next has something to release; None when nothing waits."""
        if not self._pending:
            return None
        return next(iter(self._pending.values())).first_at + self.timeout

    def _release(self, key: _Key, now: float) -> InboundMessage:
        pending = self._pending.pop(key)
        self._bytes -= pending.size
        self._released[key] = (now, {seq: hash(p) for seq, p in pending.parts.items()})
        if len(self._released) > self.max_pending:
            del self._released[next(iter(self._released))]
        return _message(pending.first, pending.first_at, pending.parts, key[3], key)


def key_of(part: InboundPart, concat: Concat) -> _Key:
    """The key the parts of one concatenated message share."""
    return (part.source, part.destination, concat.ref, concat.total, concat.sixteen_bit)


def _message(
    first: InboundPart,
    first_at: float,
    parts: dict[int, bytes],
    total: int,
    key: _Key | None = None,
) -> InboundMessage:
    payload = b"".join(parts[seq] for seq in sorted(parts))
    missing = tuple(seq for seq in range(1, total + 1) if seq not in parts)
    return InboundMessage(
        source=first.source,
        destination=first.destination,
        text=decode_payload(first.data_coding, payload),
        data_coding=first.data_coding,
        parts=len(parts),
        total=total,
        first_at=first_at,
        missing=missing,
        key=key,
    )
