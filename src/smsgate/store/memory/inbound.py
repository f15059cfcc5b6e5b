"""Inbound SMS, the numbers accounts own and their suppression lists, in memory: the Inbound
and Suppressions roles of MemoryStore, with the SQL store's semantics (tests only).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

from smsgate.store.inbound_items import inbound_event, inbound_item, inbound_log_row
from smsgate.store.interface import StoreError
from smsgate.store.memory.state import MemoryBase
from smsgate.store.records import (
    InboundRecord,
    KeptInboundPart,
    NewInbound,
    NumberRoute,
    Suppression,
)


class MemoryInbound(MemoryBase):
    async def add_number(self, route: NumberRoute) -> None:
        await asyncio.sleep(0)
        self._account(route.account_id)
        key = (route.number, route.keyword)
        owner = self.state.numbers.get(key)
        if owner is not None and owner != route.account_id:
            what = f"keyword {route.keyword!r} on number" if route.keyword else "number"
            raise StoreError(f"{what} {route.number} already belongs to account {owner}")
        self.state.numbers[key] = route.account_id

    async def remove_number(self, number: str, keyword: str = "") -> bool:
        await asyncio.sleep(0)
        return self.state.numbers.pop((number, keyword), None) is not None

    async def number_routes(self) -> list[NumberRoute]:
        await asyncio.sleep(0)
        return [
            NumberRoute(number, account, keyword)
            for (number, keyword), account in sorted(self.state.numbers.items())
        ]

    async def store_inbound(
        self, messages: Sequence[NewInbound], release: Sequence[int] = ()
    ) -> list[int]:
        await asyncio.sleep(0)
        for m in messages:
            if m.account_id is not None:
                self._account(m.account_id)  # checked first: all or nothing, as a transaction
        for part_id in release:
            self.state.inbound_parts.pop(part_id, None)
        ids: list[int] = []
        for m in messages:
            row = InboundRecord(
                id=next(self.state.inbound_ids),
                account_id=m.account_id,
                source=m.source,
                destination=m.destination,
                text=m.text,
                data_coding=m.data_coding,
                parts=m.parts,
                total=m.total,
                connector=m.connector,
                received_at=m.received_at,
                keyword=m.keyword,
                reason=m.reason,
            )
            self.state.inbound[row.id] = row
            ids.append(row.id)
            item = inbound_item(row.id, m)
            if item is not None:
                self._queue_item(
                    item.account_id, item.kind, None, None, 0, item.payload, item.created_at
                )
            logged = inbound_log_row(row.id, m)
            if logged is not None:
                self._log(*logged)
            hook = inbound_event(row.id, m)
            if hook is not None:
                self._queue_webhooks([hook])
            if m.account_id is None or not m.opt:
                continue
            key = (m.account_id, m.source)
            if m.opt == "out":
                self.state.suppressions.setdefault(
                    key, Suppression(m.account_id, m.source, "sms", m.received_at)
                )
            else:
                self.state.suppressions.pop(key, None)
        return ids

    async def keep_inbound_part(self, part: KeptInboundPart) -> int | None:
        await asyncio.sleep(0)
        key = _part_key(part)
        if any(_part_key(p) == key for p in self.state.inbound_parts.values()):
            return None
        kept = replace(part, id=next(self.state.inbound_part_ids))
        self.state.inbound_parts[kept.id] = kept
        return kept.id

    async def kept_inbound_parts(self, node_id: int) -> list[KeptInboundPart]:
        await asyncio.sleep(0)
        return [p for p in self.state.inbound_parts.values() if p.node_id == node_id]

    async def inbound_after(self, account_id: int, after: int, limit: int) -> list[InboundRecord]:
        await asyncio.sleep(0)
        found = [r for r in self.state.inbound.values() if r.account_id == account_id]
        return [r for r in found if r.id > after][:limit]

    async def unroutable(self, after: int, limit: int) -> list[InboundRecord]:
        await asyncio.sleep(0)
        found = [r for r in self.state.inbound.values() if r.account_id is None]
        return [r for r in found if r.id > after][:limit]

    async def suppress(self, account_id: int, phone: str, source: str, at: float) -> bool:
        await asyncio.sleep(0)
        self._account(account_id)
        key = (account_id, phone)
        if key in self.state.suppressions:
            return False
        self.state.suppressions[key] = Suppression(account_id, phone, source, at)
        return True

    async def unsuppress(self, account_id: int, phone: str) -> bool:
        await asyncio.sleep(0)
        return self.state.suppressions.pop((account_id, phone), None) is not None

    async def suppressions(self, account_id: int) -> list[Suppression]:
        await asyncio.sleep(0)
        return sorted(
            (s for (a, _), s in self.state.suppressions.items() if a == account_id),
            key=lambda s: s.phone,
        )


def _part_key(p: KeptInboundPart) -> tuple[object, ...]:
    """The unique key of inbound_parts (schema.py)."""
    return (p.node_id, p.source, p.destination, p.ref, p.total, p.sixteen_bit, p.seq)
