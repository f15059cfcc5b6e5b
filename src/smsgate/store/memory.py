"""MemoryStore: every role of the store (roles.py) in one process's memory, with the SQL store's
semantics (money conserved, status only forward, duplicates within the window, rate limits,
claims, leases, outbox order, held parts), for unit tests of the rooms above the store.

Not durable and not for production: nothing survives the process. Stores made by `sibling()`
share one state, as two nodes share one database. Each call yields to the event loop once and
then runs to its end without awaiting, so a call is one transaction, as a SQL write is; and
no public method calls another, so a test that wraps one (to count it or to fail it) sees only
its own callers.
The contract tests (tests/store/contract/) hold it to the same behaviour as SQLite and
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smsgate.domain import ratelimit
from smsgate.domain.status import PartState, Status, advance, fold, is_final
from smsgate.store.interface import Store, StoreError
from smsgate.store.records import (
    AcceptRequest,
    AcceptResult,
    AccountRecord,
    AccountSummary,
    Balance,
    ClaimedPart,
    Credentials,
    HeldDue,
    HeldPart,
    HoldResult,
    MessageView,
    NewMessage,
    OperatorReceipt,
    OutboxItem,
    Outcome,
    RateLimit,
    RefusedMessage,
    SubmitDone,
    SubmitFailed,
    Tariff,
)
from smsgate.store.schema import BILL_CHARGED, BILL_REFUNDED, BILL_RESERVED

_GroupKey = tuple[int, str, str, int, int]  # account, source, destination, ref, total


@dataclass(slots=True)
class _Account:
    record: AccountRecord
    balance: int = 0
    reserved: int = 0
    charged: int = 0
    token_hash: str | None = None
    password_hash: str | None = None
    smpp_password_hash: str | None = None

    def money(self) -> Balance:
        return Balance(self.record.currency, self.balance, self.reserved, self.charged)


@dataclass(slots=True)
class _Message:
    account_id: int
    sender: str
    phone: str
    text: str
    data_coding: int
    parts: int
    created_at: float
    expires_at: float
    status: Status = Status.ENROUTE
    done_at: float | None = None
    error: int = 0
    part_ids: list[int] = field(default_factory=list)
    receipt_ids: tuple[int, ...] = ()


@dataclass(slots=True)
class _Part:
    id: int
    message_id: int
    account_id: int
    price: int
    seq: int
    total: int
    concat_ref: int
    payload: bytes
    due_at: float
    state: PartState = PartState.QUEUED
    billing: int = BILL_RESERVED
    attempts: int = 0
    claimed_by: int | None = None
    claim_until: float | None = None
    connector: str | None = None
    operator_id: str | None = None
    submitted_at: float | None = None
    done_at: float | None = None
    error: int = 0

    def report(self, state: PartState, error: int, at: float) -> None:
        """Move forward by a report (never back); a final state ends the claim."""
        new = advance(self.state, state)
        if new == self.state:
            return
        self.state = new
        if is_final(new):
            self.done_at, self.error = at, error
            self.claimed_by = self.claim_until = None


@dataclass(slots=True)
class _OutboxRow:
    id: int
    account_id: int
    message_id: int
    pdu_id: int
    status: Status
    error: int
    created_at: float
    delivered_at: float | None = None
    attempts: int = 0


@dataclass(slots=True)
class _Held:
    part: HeldPart
    claimed_until: float | None = None


class MemoryState:
    """The data one or more MemoryStores share, as nodes share one database."""

    def __init__(self) -> None:
        self.account_ids = itertools.count(1)
        self.accounts: dict[int, _Account] = {}
        self.originators: dict[int, set[str]] = defaultdict(set)
        self.tariffs: dict[tuple[int | None, str], int] = {}
        self.messages: dict[int, _Message] = {}
        self.aliases: dict[int, int] = {}  # alias id -> message id
        self.parts: dict[int, _Part] = {}
        self.by_operator: dict[tuple[str, str], int] = {}  # (connector, operator id) -> part
        self.unmatched: list[OperatorReceipt] = []  # receipts before their part's answer
        self.buckets: dict[int, ratelimit.Bucket] = {}
        self.dedupe: dict[tuple[int, bytes], float] = {}  # newest created_at of a key
        self.outbox_ids = itertools.count(1)
        self.outbox: dict[int, _OutboxRow] = {}  # in id order
        self.held: dict[int, _Held] = {}
        self.leases: dict[str, tuple[str, float]] = {}


class MemoryStore:
    def __init__(self, *, node_id: int = 0, state: MemoryState | None = None) -> None:
        self.node_id = node_id
        self.state = MemoryState() if state is None else state

    def sibling(self, node_id: int) -> MemoryStore:
        """Another node on the same data."""
        return MemoryStore(node_id=node_id, state=self.state)

    # -- lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        await asyncio.sleep(0)

    async def close(self) -> None:
        await asyncio.sleep(0)

    # -- accounts and admin ------------------------------------------------------------------
    def _account(self, account_id: int | None) -> _Account:
        found = None if account_id is None else self.state.accounts.get(account_id)
        if found is None:
            raise StoreError(f"unknown account {account_id}")
        return found

    async def create_account(
        self, login: str, *, currency: str = "UAH", rate_limit: float = 9.0, max_binds: int = 4
    ) -> AccountRecord:
        await asyncio.sleep(0)
        if not login:
            raise StoreError("a login must not be empty")
        if any(a.record.login == login for a in self.state.accounts.values()):
            raise StoreError(f"login {login!r} is taken")
        record = AccountRecord(
            next(self.state.account_ids), login, currency, float(rate_limit), max_binds, True
        )
        self.state.accounts[record.id] = _Account(record)
        return record

    async def account(self, account_id: int) -> AccountRecord | None:
        await asyncio.sleep(0)
        found = self.state.accounts.get(account_id)
        return None if found is None else found.record

    async def credentials(self, login: str) -> Credentials | None:
        await asyncio.sleep(0)
        for a in self.state.accounts.values():
            if a.record.login == login:
                return Credentials(a.record, a.password_hash, a.smpp_password_hash)
        return None

    async def account_by_token_hash(self, token_hash: str) -> AccountRecord | None:
        await asyncio.sleep(0)
        for a in self.state.accounts.values():
            if a.token_hash == token_hash:
                return a.record
        return None

    async def set_token_hash(self, account_id: int, token_hash: str) -> None:
        await asyncio.sleep(0)
        account = self._account(account_id)
        if any(
            a.token_hash == token_hash and a is not account for a in self.state.accounts.values()
        ):
            raise StoreError("the token hash is taken")  # a unique column in SQL
        account.token_hash = token_hash

    async def set_password_hash(self, account_id: int, password_hash: str) -> None:
        await asyncio.sleep(0)
        self._account(account_id).password_hash = password_hash

    async def set_smpp_password_hash(self, account_id: int, password_hash: str) -> None:
        await asyncio.sleep(0)
        self._account(account_id).smpp_password_hash = password_hash

    async def set_active(self, account_id: int, active: bool) -> None:
        await asyncio.sleep(0)
        account = self._account(account_id)
        account.record = dataclasses.replace(account.record, active=active)

    async def set_rate_limit(self, account_id: int, rate_limit: float) -> None:
        await asyncio.sleep(0)
        if rate_limit < 0:
            raise StoreError("a rate limit must not be negative")
        account = self._account(account_id)
        account.record = dataclasses.replace(account.record, rate_limit=float(rate_limit))

    async def list_accounts(self) -> list[AccountSummary]:
        await asyncio.sleep(0)
        return [
            AccountSummary(
                account=a.record,
                balance=a.money(),
                has_token=a.token_hash is not None,
                has_smpp_password=a.smpp_password_hash is not None,
                senders=tuple(sorted(self.state.originators.get(i, ()))),
            )
            for i, a in sorted(self.state.accounts.items())
        ]

    async def top_up(self, account_id: int, amount: int) -> Balance:
        await asyncio.sleep(0)
        account = self._account(account_id)
        if account.balance + amount < 0:
            raise StoreError("a top-up must not make the balance negative")
        account.balance += amount
        return account.money()

    async def balance(self, account_id: int) -> Balance:
        await asyncio.sleep(0)
        return self._account(account_id).money()

    async def add_originator(self, account_id: int, name: str) -> None:
        await asyncio.sleep(0)
        self._account(account_id)
        self.state.originators[account_id].add(name)

    async def remove_originator(self, account_id: int, name: str) -> bool:
        await asyncio.sleep(0)
        names = self.state.originators.get(account_id, set())
        if name not in names:
            return False
        names.discard(name)
        return True

    async def originators(self, account_id: int) -> list[str]:
        await asyncio.sleep(0)
        return sorted(self.state.originators.get(account_id, ()))

    async def set_tariff(self, tariff: Tariff) -> None:
        await asyncio.sleep(0)
        if tariff.price < 0:
            raise StoreError("a price must not be negative")
        if not tariff.prefix.isdigit() and tariff.prefix != "":
            raise StoreError(f"a tariff prefix is digits, not {tariff.prefix!r}")
        if tariff.account_id is not None:
            self._account(tariff.account_id)
        self.state.tariffs[(tariff.account_id, tariff.prefix)] = tariff.price

    async def remove_tariff(self, account_id: int | None, prefix: str) -> bool:
        await asyncio.sleep(0)
        return self.state.tariffs.pop((account_id, prefix), None) is not None

    async def tariffs(self, account_id: int) -> list[Tariff]:
        await asyncio.sleep(0)
        found = [
            Tariff(owner, prefix, price)
            for (owner, prefix), price in self.state.tariffs.items()
            if owner in (account_id, None)
        ]
        return sorted(found, key=lambda t: (t.account_id is None, t.prefix))

    # -- accepting -----------------------------------------------------------------------------
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
            s.messages[m.id] = _Message(
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
            )
            for p in m.parts:
                s.parts[p.id] = _Part(
                    p.id,
                    m.id,
                    m.account_id,
                    m.price_per_part,
                    p.seq,
                    p.total,
                    p.concat_ref,
                    p.payload,
                    request.now,
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
    def _owned(self, account_id: int, message_id: int) -> _Message | None:
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
        return found

    async def message(self, account_id: int, message_id: int) -> MessageView | None:
        await asyncio.sleep(0)
        m = self._owned(account_id, message_id)
        if m is None:
            return None
        real = message_id if message_id in self.state.messages else self.state.aliases[message_id]
        return MessageView(
            real, m.account_id, m.status, m.phone, m.sender, m.created_at, m.done_at, m.error
        )

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
        self._save(parts, at)
        return True

    # -- claims ----------------------------------------------------------------------------------
    async def claim_parts(
        self, node_id: int, now: float, limit: int, claim_ttl: float
    ) -> list[ClaimedPart]:
        await asyncio.sleep(0)
        if limit <= 0:
            return []
        s = self.state
        due = sorted(
            (
                p
                for p in s.parts.values()
                if p.state == PartState.QUEUED
                and p.due_at <= now
                and s.messages[p.message_id].expires_at > now
            ),
            key=lambda p: (p.due_at, p.id),
        )[:limit]
        claimed = []
        for p in sorted(due, key=lambda p: p.id):
            p.state, p.claimed_by, p.claim_until = PartState.SENDING, node_id, now + claim_ttl
            p.attempts += 1
            m = s.messages[p.message_id]
            claimed.append(
                ClaimedPart(
                    p.id,
                    p.message_id,
                    m.account_id,
                    m.sender,
                    m.phone,
                    m.data_coding,
                    p.seq,
                    p.total,
                    p.concat_ref,
                    p.payload,
                    p.attempts,
                    m.expires_at,
                )
            )
        return claimed

    async def requeue(self, part_ids: Sequence[int], not_before: float) -> None:
        await asyncio.sleep(0)
        for i in set(part_ids):
            p = self.state.parts.get(i)
            if p is not None and p.state == PartState.SENDING:
                p.state, p.due_at = PartState.QUEUED, not_before
                p.claimed_by = p.claim_until = None

    async def failed(self, failures: Sequence[SubmitFailed]) -> None:
        await asyncio.sleep(0)
        if not failures:
            return
        changed: dict[int, _Part] = {}
        for f in failures:
            p = self.state.parts.get(f.part_id)
            if p is not None:
                p.report(f.state, f.error, f.at)
                changed[p.id] = p
        self._save(changed.values(), max(f.at for f in failures))

    async def expire(self, now: float) -> int:
        await asyncio.sleep(0)
        s = self.state
        lapsed = [
            p
            for p in s.parts.values()
            if p.state == PartState.QUEUED and s.messages[p.message_id].expires_at <= now
        ]
        for p in lapsed:
            p.report(PartState.EXPIRED, 0, now)
        self._save(lapsed, now)
        return len(lapsed)

    async def release_claims(self, now: float, node_id: int | None = None) -> int:
        await asyncio.sleep(0)
        released = 0
        for p in self.state.parts.values():
            if p.state != PartState.SENDING:
                continue
            lapsed = p.claim_until is not None and p.claim_until < now
            if lapsed or (node_id is not None and p.claimed_by == node_id):
                p.state, p.claimed_by, p.claim_until = PartState.QUEUED, None, None
                released += 1
        return released

    async def queue_depth(self) -> int:
        await asyncio.sleep(0)
        return sum(1 for p in self.state.parts.values() if p.state == PartState.QUEUED)

    # -- receipts --------------------------------------------------------------------------------
    async def submitted(self, done: Sequence[SubmitDone]) -> None:
        await asyncio.sleep(0)
        self._apply_receipts((), done)

    async def apply_receipts(
        self, receipts: Sequence[OperatorReceipt], answers: Sequence[SubmitDone] = ()
    ) -> None:
        await asyncio.sleep(0)
        self._apply_receipts(receipts, answers)

    def _apply_receipts(
        self, receipts: Sequence[OperatorReceipt], answers: Sequence[SubmitDone]
    ) -> None:
        if not receipts and not answers:
            return
        s = self.state
        touched: dict[int, _Part] = {}
        for d in answers:
            p = s.parts.get(d.part_id)
            if p is None:
                continue
            if p.connector is not None and p.operator_id is not None:
                old = (p.connector, p.operator_id)
                if s.by_operator.get(old) == p.id:  # answered again: its old id is gone
                    del s.by_operator[old]
            p.connector, p.operator_id, p.submitted_at = d.connector, d.operator_id, d.at
            s.by_operator.setdefault((d.connector, d.operator_id), p.id)
            p.report(PartState.SUBMITTED, 0, d.at)
            if p.state == PartState.SUBMITTED:
                p.claimed_by = p.claim_until = None
            touched[p.id] = p
        if touched:  # receipts that came before these answers
            mine = {(p.connector, p.operator_id): p for p in touched.values()}
            kept = []
            for r in s.unmatched:
                p = mine.get((r.connector, r.operator_id))
                if p is None:
                    kept.append(r)
                else:
                    p.report(r.state, r.error, r.at)
            s.unmatched = kept
        for r in receipts:
            found = s.by_operator.get((r.connector, r.operator_id))
            if found is None:
                s.unmatched.append(r)
                continue
            p = s.parts[found]
            p.report(r.state, r.error, r.at)
            touched[p.id] = p
        if touched:
            self._save(touched.values(), max([r.at for r in receipts] + [d.at for d in answers]))

    def _save(self, changed: Iterable[_Part], at: float) -> None:
        """Settle the money of parts that moved and refold the messages that may have ended,
        queueing a customer receipt for each asking id of a message that turned final."""
        s = self.state
        ended: set[int] = set()
        for p in changed:
            if p.billing == BILL_RESERVED and (p.operator_id is not None or is_final(p.state)):
                account = s.accounts[p.account_id]
                account.reserved -= p.price
                if p.operator_id is not None:
                    p.billing = BILL_CHARGED
                    account.charged += p.price
                else:
                    p.billing = BILL_REFUNDED
                    account.balance += p.price
            if is_final(p.state):
                ended.add(p.message_id)
        for mid in sorted(ended):
            m = s.messages[mid]
            parts = [s.parts[i] for i in sorted(m.part_ids)]
            status = fold(p.state for p in parts)
            if status == m.status:
                continue
            m.status = status
            if status is Status.ENROUTE:
                m.done_at, m.error = None, 0
                continue
            m.done_at, m.error = at, next((p.error for p in parts if p.error), 0)
            for pdu_id in m.receipt_ids:
                self._queue_receipt(m.account_id, mid, pdu_id, status, m.error, at)

    def _queue_receipt(
        self, account_id: int, message_id: int, pdu_id: int, status: Status, error: int, at: float
    ) -> None:
        row = _OutboxRow(
            next(self.state.outbox_ids), account_id, message_id, pdu_id, status, error, at
        )
        self.state.outbox[row.id] = row

    # -- outbox ----------------------------------------------------------------------------------
    async def outbox_pending(self, account_id: int, limit: int) -> list[OutboxItem]:
        await asyncio.sleep(0)
        items: list[OutboxItem] = []
        for row in self.state.outbox.values():
            if len(items) >= limit:
                break
            if row.account_id != account_id or row.delivered_at is not None:
                continue
            m = self.state.messages[row.message_id]
            items.append(
                OutboxItem(
                    row.id,
                    row.account_id,
                    row.message_id,
                    row.pdu_id,
                    row.status,
                    row.error,
                    m.phone,
                    m.sender,
                    m.text,
                    m.parts,
                    m.created_at,
                    row.created_at if m.done_at is None else m.done_at,
                    row.attempts,
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

    async def outbox_accounts(self) -> list[int]:
        await asyncio.sleep(0)
        return sorted({r.account_id for r in self.state.outbox.values() if r.delivered_at is None})

    # -- leases ----------------------------------------------------------------------------------
    async def take_lease(self, key: str, holder: str, now: float, ttl: float) -> bool:
        await asyncio.sleep(0)
        current = self.state.leases.get(key)
        if current is not None and current[0] != holder and current[1] > now:
            return False
        self.state.leases[key] = (holder, now + ttl)
        return True

    async def release_lease(self, key: str, holder: str) -> None:
        await asyncio.sleep(0)
        if self.state.leases.get(key, ("",))[0] == holder:
            del self.state.leases[key]

    async def live_leases(self, now: float) -> dict[str, tuple[str, float]]:
        await asyncio.sleep(0)
        return {k: v for k, v in self.state.leases.items() if v[1] > now}

    # -- held parts of long SMPP messages ----------------------------------------------------------
    def _group(self, key: _GroupKey) -> list[_Held]:
        return sorted(
            (h for h in self.state.held.values() if _key(h.part) == key),
            key=lambda h: h.part.seq,
        )

    async def hold_part(
        self, part: HeldPart, now: float, claim_for: float, rate_limit: RateLimit | None = None
    ) -> HoldResult:
        await asyncio.sleep(0)
        self._account(part.account_id)
        if rate_limit is not None:
            bucket, retry_after = ratelimit.take(
                self.state.buckets.get(part.account_id), now, rate_limit.rate, rate_limit.burst
            )
            if retry_after is not None:
                return HoldResult(0, retry_after=retry_after)
            self.state.buckets[part.account_id] = bucket
        group = self._group(_key(part))
        by_seq = {h.part.seq: h.part.id for h in group}
        if any(h.claimed_until is not None for h in group):
            # Its message is complete and being finished: a late copy of one of its parts.
            return HoldResult(by_seq.get(part.seq, min(by_seq.values())))
        existing = by_seq.get(part.seq)
        if existing is not None:
            held = self.state.held[existing]
            held.part = dataclasses.replace(
                held.part,
                data_coding=part.data_coding,
                payload=part.payload,
                wants_receipt=part.wants_receipt,
                lifetime=part.lifetime,
            )
            return HoldResult(existing)
        self.state.held[part.id] = _Held(part)
        if len(group) + 1 < part.total:
            return HoldResult(part.id)
        return HoldResult(part.id, self._claim_group(_key(part), now + claim_for))

    def _claim_group(self, key: _GroupKey, until: float) -> tuple[HeldPart, ...]:
        group = self._group(key)
        for h in group:
            h.claimed_until = until
        return tuple(h.part for h in group)

    async def held_due(self, now: float, incomplete_before: float, claim_for: float) -> HeldDue:
        await asyncio.sleep(0)
        groups: dict[_GroupKey, list[_Held]] = defaultdict(list)
        for h in self.state.held.values():
            groups[_key(h.part)].append(h)
        complete: list[tuple[HeldPart, ...]] = []
        incomplete: list[tuple[HeldPart, ...]] = []
        for key, group in sorted(groups.items()):
            claims = [h.claimed_until for h in group if h.claimed_until is not None]
            claimed = max(claims) if claims else None
            if claimed is not None and claimed >= now:
                continue
            whole = len(group) >= key[4]
            first_at = min(h.part.received_at for h in group)
            if not whole and claimed is None and first_at >= incomplete_before:
                continue
            (complete if whole else incomplete).append(self._claim_group(key, now + claim_for))
        return HeldDue(complete, incomplete)

    async def refuse_held(self, refused: RefusedMessage) -> bool:
        await asyncio.sleep(0)
        s = self.state
        parts = refused.parts
        if not all(p.id in s.held for p in parts):
            return False
        for p in parts:
            del s.held[p.id]
        first, now = parts[0], refused.now
        s.messages[first.id] = _Message(
            first.account_id,
            first.source,
            refused.phone,
            refused.text,
            first.data_coding,
            first.total,
            now,
            now,
            Status.REJECTD,
            now,
            refused.error,
        )
        for p in parts[1:]:
            s.aliases[p.id] = first.id
        for p in parts:
            if p.wants_receipt:
                self._queue_receipt(
                    first.account_id, first.id, p.id, Status.REJECTD, refused.error, now
                )
        return True


def _key(part: HeldPart) -> _GroupKey:
    return (part.account_id, part.source, part.destination, part.ref, part.total)


if TYPE_CHECKING:
    _every_role: type[Store] = MemoryStore  # mypy: the memory store implements every role
