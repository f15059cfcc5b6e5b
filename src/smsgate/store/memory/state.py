"""The memory store's data, shared by every MemoryStore made by `sibling()` as nodes share
one database, and the rules more than one role applies: settling a part's money once and
refolding its message's status, with the customer receipts that queues. Tests only.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from smsgate.domain import ratelimit
from smsgate.domain.dlr_mask import wants
from smsgate.domain.status import PartState, Status, advance, fold, is_final
from smsgate.store import events
from smsgate.store.interface import StoreError
from smsgate.store.records import (
    CALLBACKS,
    MESSAGE_STATUS,
    RECEIPTS,
    AccountEvent,
    AccountRecord,
    Balance,
    HeldPart,
    InboundRecord,
    KeptInboundPart,
    KeyClaim,
    LedgerKind,
    LoginFailure,
    MessageCallback,
    OperatorReceipt,
    Suppression,
    WebhookEndpoint,
    callback_payload,
)
from smsgate.store.schema import BILL_CHARGED, BILL_REFUNDED, BILL_RESERVED
from smsgate.store.webhook_events import (
    MessageDetails,
    WebhookEvent,
    described,
    fan_out,
    status_event,
)

GroupKey = tuple[int, str, str, int, int]  # account, source, destination, ref, total


@dataclass(slots=True)
class AccountRow:
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
class MessageRow:
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
    door: str = "smpp"  # refused held messages came by SMPP
    price_per_part: int = 0
    callback: MessageCallback | None = None
    client_ref: str | None = None


@dataclass(slots=True)
class PartRow:
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
    was: PartState = PartState.QUEUED  # the state as last saved (its events, _save)

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
class LedgerRow:
    """A ledger_entries row (store/ledger.py): money that moved other than a charge."""

    id: int
    account_id: int
    kind: LedgerKind
    amount: int
    at: float
    message_id: int | None = None


@dataclass(slots=True)
class AttemptRow:
    outbox_id: int
    at: float
    status: int | None
    latency: float
    error: str | None


@dataclass(slots=True)
class OutboxRow:
    id: int
    account_id: int
    message_id: int | None
    pdu_id: int | None
    status: Status | None
    error: int
    created_at: float
    delivered_at: float | None = None
    attempts: int = 0
    kind: str = RECEIPTS
    payload: str | None = None
    due_at: float | None = None
    dead_at: float | None = None
    last_error: str | None = None


@dataclass(slots=True)
class HeldRow:
    part: HeldPart
    claimed_until: float | None = None


class MemoryState:
    """The data one or more MemoryStores share, as nodes share one database."""

    def __init__(self) -> None:
        self.account_ids = itertools.count(1)
        self.accounts: dict[int, AccountRow] = {}
        self.originators: dict[int, set[str]] = defaultdict(set)
        self.tariffs: dict[tuple[int | None, str], int] = {}
        self.messages: dict[int, MessageRow] = {}
        self.aliases: dict[int, int] = {}  # alias id -> message id
        self.parts: dict[int, PartRow] = {}
        self.by_operator: dict[tuple[str, str], int] = {}  # (connector, operator id) -> part
        self.unmatched: list[OperatorReceipt] = []  # receipts before their part's answer
        self.buckets: dict[int, ratelimit.Bucket] = {}
        self.dedupe: dict[tuple[int, bytes], float] = {}  # newest created_at of a key
        self.outbox_ids = itertools.count(1)
        self.outbox: dict[int, OutboxRow] = {}  # in id order
        self.attempts: list[AttemptRow] = []
        self.held: dict[int, HeldRow] = {}
        self.event_seq: dict[int, int] = defaultdict(int)  # account -> its newest event seq
        self.events: dict[int, list[AccountEvent]] = defaultdict(list)
        self.leases: dict[str, tuple[str, float]] = {}
        # (account, key) -> (created_at, its claim)
        self.idempotency: dict[tuple[int, str], tuple[float, KeyClaim]] = {}
        self.login_failures: dict[str, LoginFailure] = {}  # by key
        self.numbers: dict[tuple[str, str], int] = {}  # (number, keyword) -> account
        self.inbound_ids = itertools.count(1)
        self.inbound: dict[int, InboundRecord] = {}  # in id order
        self.inbound_part_ids = itertools.count(1)
        self.inbound_parts: dict[int, KeptInboundPart] = {}  # in id order
        self.suppressions: dict[tuple[int, str], Suppression] = {}  # (account, phone)
        self.webhook_endpoint_ids = itertools.count(1)
        self.webhook_endpoints: dict[int, WebhookEndpoint] = {}  # in id order
        self.ledger_ids = itertools.count(1)
        self.ledger: list[LedgerRow] = []  # in id order


class MemoryBase:
    """What every role of the memory store stands on: the shared state, and the rules that
    several roles apply (an account looked up, parts settled and their messages refolded)."""

    def __init__(self, *, node_id: int = 0, state: MemoryState | None = None) -> None:
        self.node_id = node_id
        self.state = MemoryState() if state is None else state

    async def open(self) -> None:
        await asyncio.sleep(0)

    async def close(self) -> None:
        await asyncio.sleep(0)

    def _account(self, account_id: int | None) -> AccountRow:
        found = None if account_id is None else self.state.accounts.get(account_id)
        if found is None:
            raise StoreError(f"unknown account {account_id}")
        return found

    def _log(
        self,
        account_id: int,
        kind: str,
        at: float,
        message: int | None,
        part: int | None,
        data: str | None,
    ) -> None:
        """Append an event with the account's next seq (store/events.py)."""
        seq = self.state.event_seq[account_id] = self.state.event_seq[account_id] + 1
        self.state.events[account_id].append(AccountEvent(seq, kind, at, message, part, data))

    def _part_events(self, p: PartRow, billing: int, at: float, unsent_end: str) -> None:
        """The events of one part's move since it was last saved (progress._part_events)."""
        account, message, part = p.account_id, p.message_id, p.id
        if p.was < PartState.SUBMITTED <= p.state and p.operator_id is not None:
            data = events.data_of(connector=p.connector, operator_id=p.operator_id)
            self._log(account, events.SUBMITTED, p.submitted_at or at, message, part, data)
        if is_final(p.state) and not is_final(p.was):
            if p.operator_id is not None:
                data = events.data_of(stat=p.state.name, err=p.error)
                self._log(account, events.RECEIPT, p.done_at or at, message, part, data)
            elif p.state == PartState.EXPIRED:
                self._log(account, events.EXPIRED, at, message, part, None)
            elif unsent_end == events.REFUSED:
                data = events.data_of(command_status=p.error)
                self._log(account, events.REFUSED, p.done_at or at, message, part, data)
            else:
                self._log(account, unsent_end, at, message, part, None)
        if p.billing == BILL_REFUNDED and billing != BILL_REFUNDED:
            self._log(account, events.REFUNDED, at, message, part, events.data_of(amount=p.price))
        p.was = p.state

    def _save(
        self, changed: Iterable[PartRow], at: float, unsent_end: str = events.REFUSED
    ) -> None:
        """Settle the money of parts that moved, log their events, and refold the messages
        that may have ended, queueing a customer receipt for each asking id of a message that
        turned final."""
        ended: set[int] = set()
        refunds: dict[tuple[int, int], int] = defaultdict(int)  # (account, message) -> amount
        for p in changed:
            billing = p.billing
            self._settle(p)
            if p.state != p.was:
                self._part_events(p, billing, at, unsent_end)
            if p.billing == BILL_REFUNDED and billing != BILL_REFUNDED and p.price:
                refunds[(p.account_id, p.message_id)] += p.price
            if is_final(p.state):
                ended.add(p.message_id)
        for (account_id, message_id), amount in sorted(refunds.items()):
            self._ledger_line(account_id, LedgerKind.REFUND, amount, at, message_id)
        self._refold(ended, at)

    def _ledger_line(
        self, account_id: int, kind: LedgerKind, amount: int, at: float, message: int | None
    ) -> None:
        row = LedgerRow(next(self.state.ledger_ids), account_id, kind, amount, at, message)
        self.state.ledger.append(row)

    def _settle(self, p: PartRow) -> None:
        """Charge a part the operator took, refund one that ended without it; once each."""
        if p.billing == BILL_RESERVED and (p.operator_id is not None or is_final(p.state)):
            account = self.state.accounts[p.account_id]
            account.reserved -= p.price
            if p.operator_id is not None:
                p.billing = BILL_CHARGED
                account.charged += p.price
            else:
                p.billing = BILL_REFUNDED
                account.balance += p.price

    def _refold(self, ended: set[int], at: float) -> None:
        s = self.state
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
            self._queue_callback(mid, at)
            self._queue_webhooks([status_event(m.account_id, mid, status, m.error, at)])

    def _queue_webhooks(self, events: Sequence[WebhookEvent]) -> None:
        """The webhook fan-out (webhook_events.queue_webhooks): an item per enabled endpoint
        of the event's account subscribed to its type."""
        accounts = {e.account_id for e in events}
        endpoints = [
            (e.id, e.account_id, " ".join(e.event_types))
            for e in self.state.webhook_endpoints.values()
            if e.account_id in accounts and e.enabled
        ]
        messages = self.state.messages
        details: dict[int, MessageDetails] = {}
        for mid in {int(e.data["id"]) for e in events if e.type == MESSAGE_STATUS}:
            m = messages.get(mid)
            if m is not None:
                details[mid] = (m.phone, m.sender, m.client_ref, m.parts)
        events = [described(e, details) for e in events]
        for account_id, kind, _, _, error, payload, created_at, _ in fan_out(events, endpoints):
            self._queue_item(account_id, kind, None, None, error, payload, created_at)

    def _queue_callback(self, message_id: int, at: float) -> None:
        """A callback of the message's status, if it has a callback URL that wants this one
        (progress.queue_callbacks)."""
        m = self.state.messages[message_id]
        callback = m.callback
        if callback is None or not wants(m.status, callback.every_status, callback.dlr_mask):
            return
        payload = callback_payload(callback.url, callback.method)
        self._queue_item(m.account_id, CALLBACKS, message_id, m.status, m.error, payload, at)

    def _queue_receipt(
        self, account_id: int, message_id: int, pdu_id: int, status: Status, error: int, at: float
    ) -> None:
        row = OutboxRow(
            next(self.state.outbox_ids), account_id, message_id, pdu_id, status, error, at
        )
        self.state.outbox[row.id] = row

    def _queue_item(
        self,
        account_id: int,
        kind: str,
        message_id: int | None,
        status: Status | None,
        error: int,
        payload: str | None,
        at: float,
        due_at: float | None = None,
    ) -> None:
        """An outbox item of a kind other than receipts (statements.queue_outbox_item)."""
        row = OutboxRow(
            next(self.state.outbox_ids), account_id, message_id, None, status, error, at
        )
        row.kind, row.payload, row.due_at = kind, payload, due_at
        self.state.outbox[row.id] = row
