"""Customer receipts to deliver, and leases between nodes, in memory: the Outbox and Leases
roles of MemoryStore.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from smsgate.store.memory.state import AttemptRow, MemoryBase, OutboxRow
from smsgate.store.records import RECEIPTS, AccountEvent, NewOutboxItem, OutboxAttempt, OutboxItem


class MemoryOutbox(MemoryBase):
    async def outbox_pending(
        self, account_id: int, limit: int, *, kind: str = RECEIPTS, after: int = 0
    ) -> list[OutboxItem]:
        await asyncio.sleep(0)
        now = time.time()
        items: list[OutboxItem] = []
        for row in self.state.outbox.values():
            if len(items) >= limit:
                break
            if row.id <= after or not _pending(row, kind, now) or row.account_id != account_id:
                continue
            m = None if row.message_id is None else self.state.messages[row.message_id]
            if m is None:
                items.append(
                    OutboxItem(
                        row.id,
                        row.account_id,
                        0,
                        row.pdu_id or 0,
                        row.status,
                        row.error,
                        "",
                        "",
                        "",
                        0,
                        row.created_at,
                        row.created_at,
                        row.attempts,
                        row.kind,
                        row.payload,
                        row.created_at,
                    )
                )
                continue
            items.append(
                OutboxItem(
                    row.id,
                    row.account_id,
                    row.message_id or 0,
                    row.pdu_id or 0,
                    row.status,
                    row.error,
                    m.phone,
                    m.sender,
                    m.text,
                    m.parts,
                    m.created_at,
                    row.created_at if m.done_at is None else m.done_at,
                    row.attempts,
                    row.kind,
                    row.payload,
                    row.created_at,
                )
            )
        return items

    async def outbox_done(self, item_ids: Sequence[int]) -> None:
        await asyncio.sleep(0)
        now = time.time()
        for i in set(item_ids):
            row = self.state.outbox.get(i)
            if row is not None and row.delivered_at is None:
                row.delivered_at = now
                row.attempts += 1

    async def outbox_accounts(self, *, kind: str = RECEIPTS) -> list[int]:
        await asyncio.sleep(0)
        now = time.time()
        return sorted({r.account_id for r in self.state.outbox.values() if _pending(r, kind, now)})

    async def outbox_depth(self) -> dict[str, int]:
        await asyncio.sleep(0)
        depth: dict[str, int] = {}
        for row in self.state.outbox.values():
            if row.delivered_at is None:
                depth[row.kind] = depth.get(row.kind, 0) + 1
        return depth

    async def outbox_add(self, items: Sequence[NewOutboxItem]) -> None:
        await asyncio.sleep(0)
        for i in items:
            self._queue_item(
                i.account_id,
                i.kind,
                i.message_id,
                i.status,
                i.error,
                i.payload,
                i.created_at,
                i.due_at,
            )

    async def outbox_attempted(self, attempts: Sequence[OutboxAttempt]) -> None:
        await asyncio.sleep(0)
        for a in attempts:
            self.state.attempts.append(AttemptRow(a.item_id, a.at, a.status, a.latency, a.error))
            row = self.state.outbox.get(a.item_id)
            if row is None or row.delivered_at is not None:
                continue
            row.attempts += 1
            if a.dead:
                row.delivered_at = row.dead_at = a.at
                row.last_error = a.error
            elif a.retry_at is not None:
                row.due_at, row.last_error = a.retry_at, a.error
            else:
                row.delivered_at = a.at

    async def outbox_attempts(self, item_id: int) -> list[OutboxAttempt]:
        await asyncio.sleep(0)
        return [
            OutboxAttempt(a.outbox_id, a.at, a.status, a.latency, a.error)
            for a in self.state.attempts
            if a.outbox_id == item_id
        ]


def _pending(row: OutboxRow, kind: str, now: float) -> bool:
    return (
        row.kind == kind and row.delivered_at is None and (row.due_at is None or row.due_at <= now)
    )


class MemoryEvents(MemoryBase):
    async def events(self, account_id: int, after: int, limit: int) -> list[AccountEvent]:
        await asyncio.sleep(0)
        logged = self.state.events.get(account_id, [])
        if not logged:
            return []
        # Seqs follow each other from the oldest kept (retention drops a log's beginning): the
        # event after `after` is `after - first + 1` places in.
        start = max(after - logged[0].seq + 1, 0)
        return logged[start : start + max(limit, 0)]


class MemoryLeases(MemoryBase):
    async def take_lease(self, key: str, holder: str, now: float, ttl: float) -> bool:
        await asyncio.sleep(0)
        current = self.state.leases.get(key)
        if current is not None and current[0] != holder and current[1] > now:
            return False
        self.state.leases[key] = (holder, now + ttl)
        return True

    async def take_leases(
        self, holder: str, now: float, takes: Sequence[tuple[str, float]]
    ) -> list[bool]:
        return [await self.take_lease(key, holder, now, ttl) for key, ttl in takes]

    async def release_lease(self, key: str, holder: str) -> None:
        await asyncio.sleep(0)
        if self.state.leases.get(key, ("",))[0] == holder:
            del self.state.leases[key]

    async def live_leases(self, now: float) -> dict[str, tuple[str, float]]:
        await asyncio.sleep(0)
        return {k: v for k, v in self.state.leases.items() if v[1] > now}
