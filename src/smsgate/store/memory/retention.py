"""The Retention role in memory: old finished messages' texts erased, then their rows (parts,
aliases, outbox items) deleted, as the SQL store does; account money untouched."""

from __future__ import annotations

import asyncio

from smsgate.store.memory.state import MemoryBase


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
