"""The Retention role in memory: old finished messages' texts erased, then their rows (parts,
aliases, outbox items) deleted, as the SQL store does; account money untouched, and deleted
messages' charges folded into the ledger's `carried` line (store/ledger.py). Inbound SMS the
same two steps."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from smsgate.store.memory.state import MemoryBase
from smsgate.store.records import LedgerKind


class MemoryRetention(MemoryBase):
    async def erase_texts(self, before: float, limit: int) -> int:
        await asyncio.sleep(0)
        s = self.state
        ids = [
            mid
            for mid, m in s.messages.items()
            if m.created_at < before and m.done_at is not None and m.text != ""
        ][:limit]
        for mid in ids:
            message = s.messages[mid]
            message.text = ""
            for part_id in message.part_ids:
                s.parts[part_id].payload = b""
        return len(ids)

    async def delete_messages(self, before: float, limit: int) -> int:
        await asyncio.sleep(0)
        s = self.state
        ids = {
            mid for mid, m in s.messages.items() if m.created_at < before and m.done_at is not None
        }
        ids = set(sorted(ids)[:limit])
        self._carry_forward(ids)
        for mid in ids:
            for part_id in s.messages.pop(mid).part_ids:
                part = s.parts.pop(part_id, None)
                if part is not None and part.connector and part.operator_id:
                    key = (part.connector, part.operator_id)
                    if s.by_operator.get(key) == part_id:
                        del s.by_operator[key]
        for alias in [a for a, mid in s.aliases.items() if mid in ids]:
            del s.aliases[alias]
        gone = {i for i, row in s.outbox.items() if row.message_id in ids}
        for item_id in gone:
            del s.outbox[item_id]
        s.attempts = [a for a in s.attempts if a.outbox_id not in gone]
        return len(ids)

    async def erase_inbound_texts(self, before: float, limit: int) -> int:
        await asyncio.sleep(0)
        s = self.state
        ids = [i for i, row in s.inbound.items() if row.received_at < before and row.text != ""][
            :limit
        ]
        for i in ids:
            s.inbound[i] = replace(s.inbound[i], text="")
        return len(ids)

    async def delete_inbound(self, before: float, limit: int) -> int:
        await asyncio.sleep(0)
        s = self.state
        newest = max(s.inbound, default=0)  # kept, as SQL keeps it (sql_retention.py)
        ids = [i for i, row in s.inbound.items() if row.received_at < before and i < newest]
        for i in ids[:limit]:
            del s.inbound[i]
        return len(ids[:limit])

    async def delete_events(self, before: float, limit: int) -> int:
        await asyncio.sleep(0)
        gone = 0
        for account_id in sorted(self.state.events):
            log = self.state.events[account_id]
            old = 0
            while old < len(log) and gone + old < limit and log[old].at < before:
                old += 1
            del log[:old]
            gone += old
            if gone >= limit:
                break
        return gone

    async def delete_settled_outbox(self, before: float, limit: int) -> int:
        await asyncio.sleep(0)
        s = self.state
        gone = [
            i
            for i, row in s.outbox.items()
            if row.message_id is None and row.delivered_at is not None and row.delivered_at < before
        ][:limit]
        for i in gone:
            del s.outbox[i]
        dropped = set(gone)
        s.attempts = [a for a in s.attempts if a.outbox_id not in dropped]
        return len(gone)

    def _carry_forward(self, ids: set[int]) -> None:
        """ledger.carry_forward: each account's deleted charges into its one `carried` row."""
        s = self.state
        folded: dict[int, tuple[int, float]] = {}
        for mid in sorted(ids):
            m = s.messages[mid]
            if m.price_per_part <= 0:
                continue
            cost, newest = folded.get(m.account_id, (0, m.created_at))
            folded[m.account_id] = (cost + m.parts * m.price_per_part, max(newest, m.created_at))
        for account_id, (cost, newest) in sorted(folded.items()):
            carried = next(
                (
                    row
                    for row in s.ledger
                    if row.account_id == account_id and row.kind is LedgerKind.CARRIED
                ),
                None,
            )
            if carried is None:
                self._ledger_line(account_id, LedgerKind.CARRIED, -cost, newest, None)
            else:
                carried.amount -= cost
                carried.at = max(carried.at, newest)
