"""Accepting messages and reading them back in memory: the Accepting and Messages roles of
MemoryStore. Each request is decided in full (rate limit, duplicates, money, ids) before
anything of it is written, as one SQL transaction is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from smsgate.domain import ratelimit
from smsgate.domain.status import PartState, Status
from smsgate.store.events import ACCEPTED, CANCELLED, data_of
from smsgate.store.interface import StoreError
from smsgate.store.memory.state import (
    MemoryBase,
    MessageRow,
    PartRow,
)
from smsgate.store.records import (
    AcceptRequest,
    AcceptResult,
    HeldPart,
    MessageFilter,
    MessageLine,
    MessageView,
    NewMessage,
    Outcome,
    PartView,
)


class MemoryMessages(MemoryBase):
    async def accept(self, request: AcceptRequest) -> AcceptResult:
        await asyncio.sleep(0)
        return self._accept(request)

    async def accept_many(
        self, requests: Sequence[AcceptRequest]
    ) -> list[AcceptResult | BaseException]:
        await asyncio.sleep(0)
        results: list[AcceptResult | BaseException] = []
        for request in requests:
            try:
                results.append(self._accept(request))
            except StoreError as exc:
                results.append(exc)
        return results

    def _accept(self, request: AcceptRequest) -> AcceptResult:
        """One request, decided in full before anything of it is written."""
        s = self.state
        account = self._account(request.account_id)
        if any(m.account_id != request.account_id for m in request.messages):
            raise StoreError("every message of a request must be of its account")
        bucket = s.buckets.get(request.account_id)
        if request.rate_limit is not None:
            limit = request.rate_limit
            bucket, retry_after = ratelimit.take(bucket, request.now, limit.rate, limit.burst)
            if retry_after is not None:
                s.buckets[request.account_id] = bucket
                return AcceptResult(retry_after=retry_after)
        cutoff = request.now - request.dedupe_window
        balance = account.balance
        keys: dict[tuple[int, bytes], float] = {}
        held: set[int] = set()
        outcomes: list[Outcome] = []
        taken: list[NewMessage] = []
        for m in request.messages:
            if m.held_ids and not all(i in s.held and i not in held for i in m.held_ids):
                outcomes.append(Outcome.GONE)
                continue
            key = (m.account_id, m.dedupe_key)
            last = keys.get(key, s.dedupe.get(key))
            if last is not None and last >= cutoff:
                outcomes.append(Outcome.DUPLICATE)
                continue
            if m.cost > balance:
                outcomes.append(Outcome.NO_MONEY)
                continue
            balance -= m.cost
            keys[key] = m.created_at if last is None else max(last, m.created_at)
            held.update(m.held_ids)
            outcomes.append(Outcome.ACCEPTED)
            taken.append(m)
        self._check_new_ids(taken)
        # Decided: write it all.
        if bucket is not None and request.rate_limit is not None:
            s.buckets[request.account_id] = bucket
        for m in taken:
            account.balance -= m.cost
            account.reserved += m.cost
            self._log(m.account_id, ACCEPTED, request.now, m.id, None, data_of(parts=len(m.parts)))
            s.messages[m.id] = MessageRow(
                m.account_id,
                m.sender,
                m.phone,
                m.text,
                m.data_coding,
                len(m.parts),
                m.created_at,
                m.expires_at,
                part_ids=[p.id for p in m.parts],
                receipt_ids=tuple(sorted(m.receipt_ids)),
                door=m.door,
                price_per_part=m.price_per_part,
                callback=m.callback,
                client_ref=m.client_ref,
            )
            for p in m.parts:
                s.parts[p.id] = PartRow(
                    p.id,
                    m.id,
                    m.account_id,
                    m.price_per_part,
                    p.seq,
                    p.total,
                    p.concat_ref,
                    p.payload,
                    request.now if m.send_at is None else m.send_at,
                )
            for alias in m.alias_ids:
                s.aliases[alias] = m.id
            for i in m.held_ids:
                del s.held[i]
        s.dedupe.update(keys)
        return AcceptResult(retry_after=None, outcomes=tuple(outcomes))

    def _check_new_ids(self, taken: Sequence[NewMessage]) -> None:
        """A caller's id that collides with a stored one (or another of the request) fails
        the request, as the SQL store's primary keys do."""
        s = self.state
        message_ids = [m.id for m in taken]
        part_ids = [p.id for m in taken for p in m.parts]
        alias_ids = [a for m in taken for a in m.alias_ids]
        if (
            len(set(message_ids)) < len(message_ids)
            or len(set(part_ids)) < len(part_ids)
            or len(set(alias_ids)) < len(alias_ids)
            or any(i in s.messages for i in message_ids)
            or any(i in s.parts for i in part_ids)
            or any(i in s.aliases for i in alias_ids)
        ):
            raise StoreError("cannot store the request: an id is taken")

    # -- messages ------------------------------------------------------------------------------
    def _owned(self, account_id: int, message_id: int) -> MessageRow | None:
        real = message_id if message_id in self.state.messages else None
        if real is None:
            real = self.state.aliases.get(message_id)
        found = None if real is None else self.state.messages.get(real)
        return found if found is not None and found.account_id == account_id else None

    async def statuses(self, account_id: int, ids: Sequence[int]) -> dict[int, Status]:
        await asyncio.sleep(0)
        found: dict[int, Status] = {}
        for i in sorted(set(ids)):
            m = self._owned(account_id, i)
            if m is not None:
                found[i] = m.status
            elif self._held(account_id, i) is not None:
                found[i] = Status.ENROUTE
        return found

    def _held(self, account_id: int, part_id: int) -> HeldPart | None:
        """A part of a long message held for its others, answered with this id."""
        row = self.state.held.get(part_id)
        return row.part if row is not None and row.part.account_id == account_id else None

    async def message(self, account_id: int, message_id: int) -> MessageView | None:
        await asyncio.sleep(0)
        m = self._owned(account_id, message_id)
        if m is None:
            held = self._held(account_id, message_id)
            if held is None:
                return None
            return MessageView(
                held.id,
                held.account_id,
                Status.ENROUTE,
                held.destination,
                held.source,
                held.received_at,
                None,
                0,
            )
        real = message_id if message_id in self.state.messages else self.state.aliases[message_id]
        return MessageView(
            real,
            m.account_id,
            m.status,
            m.phone,
            m.sender,
            m.created_at,
            m.done_at,
            m.error,
            m.client_ref,
        )

    async def search_messages(
        self, account_id: int, where: MessageFilter, limit: int
    ) -> list[MessageLine]:
        await asyncio.sleep(0)
        found: list[MessageLine] = []
        for message_id in sorted(self.state.messages, reverse=True):
            m = self.state.messages[message_id]
            if m.account_id != account_id or not _matches(message_id, m, where):
                continue
            found.append(
                MessageLine(
                    message_id,
                    m.status,
                    m.phone,
                    m.sender,
                    m.door,
                    m.text,
                    m.data_coding,
                    m.parts,
                    m.price_per_part,
                    m.created_at,
                    m.done_at,
                    m.error,
                    m.client_ref,
                )
            )
            if len(found) >= limit:
                break
        return found

    async def message_parts(self, account_id: int, message_id: int) -> list[PartView]:
        await asyncio.sleep(0)
        m = self._owned(account_id, message_id)
        if m is None:
            return []
        rows = sorted((self.state.parts[i] for i in m.part_ids), key=lambda p: p.seq)
        return [
            PartView(
                p.id,
                p.seq,
                p.total,
                p.state,
                p.price,
                p.connector,
                p.operator_id,
                p.submitted_at,
                p.done_at,
                p.error,
            )
            for p in rows
        ]

    async def cancel(self, account_id: int, message_id: int, at: float) -> bool:
        await asyncio.sleep(0)
        m = self.state.messages.get(message_id)
        if m is None or m.account_id != account_id:
            return False
        parts = [self.state.parts[i] for i in m.part_ids]
        if not parts or any(p.state != PartState.QUEUED for p in parts):
            return False
        for p in parts:
            p.report(PartState.REJECTD, 0, at)
        self._save(parts, at, CANCELLED)
        return True


def _matches(message_id: int, m: MessageRow, where: MessageFilter) -> bool:
    return not (
        (where.message_id is not None and message_id != where.message_id)
        or (where.before_id is not None and message_id >= where.before_id)
        or (where.phone is not None and not m.phone.startswith(where.phone))
        or (where.number is not None and m.phone != where.number)
        or (where.status is not None and m.status != where.status)
        or (where.sender is not None and m.sender != where.sender)
        or (where.door is not None and m.door != where.door)
        or (where.since is not None and m.created_at < where.since)
        or (where.until is not None and m.created_at >= where.until)
    )
