"""The Ledger role in memory (roles.Ledger): the same two sources as the SQL store, messages
as their own charges and the ledger rows beside them (store/ledger.py). Tests only."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime

from smsgate.domain.status import Status
from smsgate.store.ledger import merge_newest
from smsgate.store.memory.state import MemoryBase, MessageRow
from smsgate.store.records import (
    LedgerCheck,
    LedgerEntry,
    LedgerKind,
    LedgerPosition,
    TrafficRow,
    UsageGroup,
    UsageRow,
)

_DAY = 86_400
_FAILED = (Status.UNDELIV, Status.EXPIRED, Status.REJECTD)


class MemoryLedger(MemoryBase):
    async def ledger_page(
        self, account_id: int, position: LedgerPosition, limit: int
    ) -> list[LedgerEntry]:
        await asyncio.sleep(0)
        s = self.state
        rows = [
            r
            for r in s.ledger
            if r.account_id == account_id
            and (
                position.entry_at is None
                or position.entry_id is None
                or (r.at, r.id) < (position.entry_at, position.entry_id)
            )
        ]
        rows.sort(key=lambda r: (r.at, r.id), reverse=True)
        entries = [LedgerEntry(r.kind, r.amount, r.at, r.message_id, r.id) for r in rows[:limit]]
        charges = [
            LedgerEntry(LedgerKind.CHARGE, -m.parts * m.price_per_part, m.created_at, mid)
            for mid, m in sorted(s.messages.items(), reverse=True)
            if m.account_id == account_id
            and m.price_per_part > 0
            and (position.charge_before is None or mid < position.charge_before)
        ][:limit]
        return merge_newest(entries, charges, limit)

    async def ledger_check(self, account_id: int | None = None) -> list[LedgerCheck]:
        await asyncio.sleep(0)
        s = self.state
        sums: dict[int, int] = defaultdict(int)
        about_messages: dict[int, int] = defaultdict(int)
        for r in s.ledger:
            sums[r.account_id] += r.amount
            if r.kind in (LedgerKind.REFUND, LedgerKind.CARRIED):
                about_messages[r.account_id] += r.amount
        costs: dict[int, int] = defaultdict(int)
        for m in s.messages.values():
            costs[m.account_id] += m.parts * m.price_per_part
        return [
            LedgerCheck(
                account_id=i,
                balance=a.balance,
                ledger=sums[i] - costs[i],
                held=a.reserved + a.charged,
                spent=costs[i] - about_messages[i],
            )
            for i, a in sorted(s.accounts.items())
            if account_id is None or i == account_id
        ]

    async def usage(
        self, account_id: int, since: float, until: float, group: UsageGroup
    ) -> list[UsageRow]:
        await asyncio.sleep(0)
        s = self.state
        found: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for m in s.messages.values():
            if m.account_id == account_id and since <= m.created_at < until:
                row = found[_key(group, m)]
                row[0] += 1
                row[1] += m.parts
                row[2] += m.parts * m.price_per_part
        for r in s.ledger:
            message = None if r.message_id is None else s.messages.get(r.message_id)
            if (
                r.kind is LedgerKind.REFUND
                and message is not None
                and message.account_id == account_id
                and since <= message.created_at < until
            ):
                found[_key(group, message)][2] -= r.amount
        return [UsageRow(k, *v) for k, v in sorted(found.items())]

    async def traffic(
        self, account_id: int, since: float, until: float, step: int
    ) -> list[TrafficRow]:
        if step < 1:
            raise ValueError("a bucket is at least a second")
        await asyncio.sleep(0)
        found: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
        for m in self.state.messages.values():
            if m.account_id == account_id and since <= m.created_at < until:
                row = found[int(m.created_at // step)]
                row[0] += 1
                status = m.status
                row[1] += status == Status.DELIVRD
                row[2] += status in _FAILED
        return [TrafficRow(float(k * step), *v) for k, v in sorted(found.items())]


def _key(group: UsageGroup, m: MessageRow) -> str:
    if group == "status":
        return m.status.value
    if group == "prefix":
        return m.phone[:3]
    return datetime.fromtimestamp(m.created_at // _DAY * _DAY, UTC).date().isoformat()
