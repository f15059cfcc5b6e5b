"""The Ledger role on SQL (roles.Ledger): an account's ledger a page at a time, the check that
every balance is the sum of its ledger, and usage (messages, parts, money) by group.

Reads only, on the reader; the ledger's two sources and why are in store/ledger.py.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, cast, func, or_, select, union_all
from sqlalchemy import Integer as SqlInteger

from smsgate.domain.ids import MAX_ID, first_id_at
from smsgate.store.ledger import merge_newest
from smsgate.store.message_search import ID_SLACK
from smsgate.store.records import (
    LedgerCheck,
    LedgerEntry,
    LedgerKind,
    LedgerPosition,
    TrafficRow,
    UsageGroup,
    UsageRow,
)
from smsgate.store.schema import accounts, ledger_entries, messages, traffic_hours
from smsgate.store.sql_base import SqlBase
from smsgate.store.traffic_hours import DELIVERED, FAILED, HOUR

_DAY = 86_400

_COST = messages.c.parts * messages.c.price_per_part


class SqlLedger(SqlBase):
    async def ledger_page(
        self, account_id: int, position: LedgerPosition, limit: int
    ) -> list[LedgerEntry]:
        e = ledger_entries
        entries_query = select(e.c.kind, e.c.amount, e.c.at, e.c.message_id, e.c.id).where(
            e.c.account_id == account_id
        )
        if position.entry_at is not None and position.entry_id is not None:
            entries_query = entries_query.where(
                or_(
                    e.c.at < position.entry_at,
                    and_(e.c.at == position.entry_at, e.c.id < position.entry_id),
                )
            )
        entries_query = entries_query.order_by(e.c.at.desc(), e.c.id.desc()).limit(limit)
        charges_query = select(messages.c.id, messages.c.created_at, _COST).where(
            messages.c.account_id == account_id, messages.c.price_per_part > 0
        )
        if position.charge_before is not None:
            charges_query = charges_query.where(messages.c.id < position.charge_before)
        charges_query = charges_query.order_by(messages.c.id.desc()).limit(limit)
        async with self._read() as conn:
            entry_rows = (await conn.execute(entries_query)).all()
            charge_rows = (await conn.execute(charges_query)).all()
        entries = [
            LedgerEntry(LedgerKind(kind), amount, at, message_id, entry_id)
            for kind, amount, at, message_id, entry_id in entry_rows
        ]
        charges = [
            LedgerEntry(LedgerKind.CHARGE, -int(cost), at, message_id)
            for message_id, at, cost in charge_rows
        ]
        return merge_newest(entries, charges, limit)

    async def ledger_check(self, account_id: int | None = None) -> list[LedgerCheck]:
        e = ledger_entries
        only_entries: list[ColumnElement[bool]] = []
        only_messages: list[ColumnElement[bool]] = []
        only_accounts: list[ColumnElement[bool]] = []
        if account_id is not None:
            only_entries.append(e.c.account_id == account_id)
            only_messages.append(messages.c.account_id == account_id)
            only_accounts.append(accounts.c.id == account_id)
        spending = (LedgerKind.REFUND.value, LedgerKind.CARRIED.value)
        async with self._read() as conn:
            money = (
                await conn.execute(
                    select(
                        accounts.c.id, accounts.c.balance, accounts.c.reserved + accounts.c.charged
                    )
                    .where(*only_accounts)
                    .order_by(accounts.c.id)
                )
            ).all()
            sums = dict(
                (
                    await conn.execute(
                        select(e.c.account_id, func.sum(e.c.amount))
                        .where(*only_entries)
                        .group_by(e.c.account_id)
                    )
                ).all()
            )
            # Refunds and carried charges, the entries that are about messages' money.
            about_messages = dict(
                (
                    await conn.execute(
                        select(e.c.account_id, func.sum(e.c.amount))
                        .where(*only_entries, e.c.kind.in_(spending))
                        .group_by(e.c.account_id)
                    )
                ).all()
            )
            costs = dict(
                (
                    await conn.execute(
                        select(messages.c.account_id, func.sum(_COST))
                        .where(*only_messages)
                        .group_by(messages.c.account_id)
                    )
                ).all()
            )
        return [
            LedgerCheck(
                account_id=i,
                balance=int(balance),
                ledger=int(sums.get(i) or 0) - int(costs.get(i) or 0),
                held=int(held),
                spent=int(costs.get(i) or 0) - int(about_messages.get(i) or 0),
            )
            for i, balance, held in money
        ]

    async def usage(
        self, account_id: int, since: float, until: float, group: UsageGroup
    ) -> list[UsageRow]:
        key = _group_key(group, sqlite=self.engines.sqlite)
        in_period = (
            messages.c.account_id == account_id,
            messages.c.created_at >= since,
            messages.c.created_at < until,
        )
        e = ledger_entries
        async with self._read() as conn:
            rows = (
                await conn.execute(
                    select(key, func.count(), func.sum(messages.c.parts), func.sum(_COST))
                    .where(*in_period)
                    .group_by(key)
                )
            ).all()
            # Refunds come after their message: none before the period's start.
            refunds = (
                await conn.execute(
                    select(key, func.sum(e.c.amount))
                    .join_from(e, messages, messages.c.id == e.c.message_id)
                    .where(
                        e.c.account_id == account_id,
                        e.c.at >= since,
                        e.c.kind == LedgerKind.REFUND.value,
                        *in_period,
                    )
                    .group_by(key)
                )
            ).all()
        refunded: dict[str, int] = defaultdict(int)
        for k, amount in refunds:
            refunded[_key_text(group, k)] += int(amount)
        return sorted(
            (
                UsageRow(
                    _key_text(group, k),
                    int(count),
                    int(parts or 0),
                    int(cost or 0) - refunded[_key_text(group, k)],
                )
                for k, count, parts, cost in rows
            ),
            key=lambda r: r.key,
        )

    async def traffic(
        self, account_id: int, since: float, until: float, step: int
    ) -> list[TrafficRow]:
        if step < 1:
            raise ValueError("a bucket is at least a second")
        found: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
        # Buckets of whole hours read the per-hour counts (traffic_hours.py) for the whole
        # hours of the period and count messages only in its partial first and last hours;
        # shorter buckets (minutes: the last hour or so) count the messages.
        first, last = math.ceil(since / HOUR), math.floor(until / HOUR)
        async with self._read() as conn:
            if step % HOUR == 0 and first < last:
                t = traffic_hours.c
                hours = await conn.execute(
                    select(t.hour, t.sent, t.delivered, t.failed).where(
                        t.account_id == account_id, t.hour >= first, t.hour < last
                    )
                )
                for hour, sent, delivered, failed in hours:
                    _add(found, hour * HOUR // step, sent, delivered, failed)
                edges = [(since, first * HOUR), (last * HOUR, until)]
            else:
                edges = [(since, until)]
            for start, end in edges:
                if start < end:
                    for row in await conn.execute(self._counted(account_id, start, end, step)):
                        _add(found, int(row[0]), *row[1:])
        return [
            TrafficRow(float(k * step), n, ok, bad)
            for k, (n, ok, bad) in sorted(found.items())
            if n
        ]

    def _counted(self, account_id: int, since: float, until: float, step: int) -> Select[Any]:
        """The account's messages created in [since, until) counted by bucket: (bucket number,
        sent, delivered, failed)."""
        m = messages.c
        in_period = (m.account_id == account_id, m.created_at >= since, m.created_at < until)
        # The period bounds the ids too (message_search.py says why that is safe), so a recent
        # period reads its own rows, not the account's whole history; ids of the old layout
        # (above MAX_ID) say nothing of their time and are read apart.
        low, high = first_id_at(since - ID_SLACK), first_id_at(until + ID_SLACK)
        period = union_all(
            select(m.created_at, m.status).where(*in_period, m.id > MAX_ID),
            select(m.created_at, m.status).where(
                *in_period, m.id >= low, m.id < min(high, MAX_ID + 1)
            ),
        ).subquery()
        buckets = period.c.created_at / step
        # PostgreSQL's integer cast rounds, so it floors; SQLite's truncates (times are > 0).
        key = cast(buckets, SqlInteger) if self.engines.sqlite else func.floor(buckets)
        status = period.c.status
        return select(
            key,
            func.count(),
            _count_if(status.in_(DELIVERED)),
            _count_if(status.in_(FAILED)),
        ).group_by(key)


def _add(found: dict[int, list[int]], bucket: int, sent: int, delivered: int, failed: int) -> None:
    row = found[bucket]
    row[0] += int(sent)
    row[1] += int(delivered or 0)
    row[2] += int(failed or 0)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


def _group_key(group: UsageGroup, *, sqlite: bool) -> ColumnElement[Any]:
    if group == "status":
        return messages.c.status
    if group == "prefix":
        return func.substr(messages.c.phone, 1, 3)
    days = messages.c.created_at / _DAY
    # A day's number: PostgreSQL's integer cast rounds, so it floors; SQLite's truncates, and
    # times are after the epoch.
    return cast(days, SqlInteger) if sqlite else func.floor(days)


def _key_text(group: UsageGroup, key: Any) -> str:
    if group == "day":
        return datetime.fromtimestamp(int(key) * _DAY, UTC).date().isoformat()
    return str(key)
