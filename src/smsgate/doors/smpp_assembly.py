"""Reassembly of long messages that customers send as several submit_sm (UDH or SAR parts).

Parts are collected by (account, source, destination, reference, total); when every part is in,
the caller gets them in order and sends them as one message. Parts left incomplete past the
timeout are handed to `on_expire` to be refused. It decodes nothing and sends nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PartKey = tuple[int, str, str, int, int]  # account id, source, destination, ref, total


@dataclass(slots=True)
class HeldPart:
    """One part whose submit_sm_resp waits until its whole message was accepted (or failed)."""

    seq: int  # 1-based
    data_coding: int
    payload: bytes  # without its UDH
    wants_receipt: bool
    answer: asyncio.Future[Any]
    lifetime: float | None = None  # seconds, from this part's validity_period; None: default


@dataclass(slots=True)
class _Group:
    total: int
    parts: dict[int, HeldPart] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None


class Assembly:
    def __init__(self, timeout: float, on_expire: Callable[[list[HeldPart]], None]) -> None:
        self.timeout = timeout
        self._on_expire = on_expire
        self._groups: dict[PartKey, _Group] = {}

    def __len__(self) -> int:
        return len(self._groups)

    def offer(self, key: PartKey, part: HeldPart) -> tuple[list[HeldPart], HeldPart | None]:
        """Add one part. Returns (the complete message's parts in order, or [] while parts are
        missing; the part this one replaced, if the same seq came twice)."""
        total = key[4]
        group = self._groups.get(key)
        if group is None:
            group = _Group(total)
            self._groups[key] = group
            loop = asyncio.get_running_loop()
            group.timer = loop.call_later(self.timeout, self._expire, key)
        # A repeated seq is a retransmission: the newer copy wins, the older one is answered.
        replaced = group.parts.get(part.seq)
        group.parts[part.seq] = part
        if len(group.parts) < group.total:
            return [], replaced
        del self._groups[key]
        if group.timer is not None:
            group.timer.cancel()
        return [group.parts[seq] for seq in range(1, total + 1)], replaced

    def close(self) -> None:
        """Give every incomplete message to on_expire now (the door is stopping)."""
        for key in list(self._groups):
            self._expire(key)

    def _expire(self, key: PartKey) -> None:
        group = self._groups.pop(key, None)
        if group is None:
            return
        if group.timer is not None:
            group.timer.cancel()
        self._on_expire(sorted(group.parts.values(), key=lambda p: p.seq))
