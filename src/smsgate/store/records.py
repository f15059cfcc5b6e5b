"""The values that cross the store's interface: what the services hand in and get back.

Plain frozen dataclasses, no ORM rows: a service never sees SQLAlchemy.
Money is always an int of ten-thousandths of the account's currency (1.0000 UAH == 10_000).
Times are float seconds since the Unix epoch (UTC).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

import orjson

from smsgate.domain.status import PartState, Status
from smsgate.immutable import record


@record
class AccountRecord:
    id: int
    login: str
    currency: str
    rate_limit: float  # requests per second; 0 means unlimited
    max_binds: int  # SMPP binds at once
    active: bool
    admin: bool = False  # an operator: the dashboard's operator pages are open to it


@record
class Credentials:
    """What authentication needs for a login: the account and its secrets' hashes."""

    account: AccountRecord
    password_hash: str | None  # HTTP/XML gateway password
    smpp_password_hash: str | None


@record
class Balance:
    currency: str
    balance: int  # spendable
    reserved: int  # held for parts not yet submitted
    charged: int  # spent on parts the operator accepted
    credit: int = 0


@record
class AccountSummary:
    account: AccountRecord
    balance: Balance
    has_token: bool
    has_smpp_password: bool
    senders: tuple[str, ...]


@record
class Tariff:
    account_id: int | None  # None: the default plan for every account
    prefix: str  # international digits; "" matches every number
    price: int  # per SMS part


@record
class NewPart:
    id: int
    seq: int  # 1-based
    total: int
    concat_ref: int  # the reference shared by all parts of one message (0..65535)
    payload: bytes  # encoded segment, without UDH: GSM-7 unpacked septets or UTF-16BE


@record
class MessageCallback:
    """Where a message's status is pushed (dlr_url, callback_url): a URL already judged safe
    by the door, sent as a POST form or a GET query; on the final statuses `dlr_mask` names
    (Kannel's bits, domain/dlr_mask.py: all of them by default), and on ENROUTE too when it
    asks for every change of status (`every_status`)."""

    url: str
    method: str = "POST"  # or "GET"
    every_status: bool = False
    dlr_mask: int = 19  # domain.dlr_mask.FINAL: every final status


@record
class NewMessage:
    id: int
    account_id: int
    sender: str
    phone: str  # international digits, no '+'
    text: str
    data_coding: int  # 0 GSM-7, 8 UCS-2
    price_per_part: int
    parts: tuple[NewPart, ...]
    created_at: float
    expires_at: float
    door: str  # "json", "http", "xml", "smpp"
    dedupe_key: bytes  # same account + phone + text -> same key
    integration_id: str | None = None
    # Other ids that name this message (one per submit_sm of a multipart SMPP submit); every
    # one of them answers status queries for the whole message.
    alias_ids: tuple[int, ...] = ()
    # SMPP door: the ids whose submit_sm asked for a delivery receipt.
    receipt_ids: tuple[int, ...] = ()
    # SMPP door: the held parts (HeldPart ids) this message was assembled from; accepting it
    # deletes them in the same transaction, and it is not accepted if they are gone.
    held_ids: tuple[int, ...] = ()
    # A scheduled message: its parts are not due before this time (None: at once).
    send_at: float | None = None
    # HTTP, JSON and XML doors: where the message's status is pushed, if anywhere.
    callback: MessageCallback | None = None
    # Native API: the customer's own reference for this recipient, echoed back.
    client_ref: str | None = None

    @property
    def cost(self) -> int:
        return self.price_per_part * len(self.parts)


@record
class LoginFailure:
    """Failed password checks counted under one key (a client address, a login from an address,
    a login from anywhere) and the lock they started (0.0: none)."""

    count: int
    last_at: float
    locked_until: float


@record
class RateLimit:
    rate: float  # tokens per second
    burst: float  # bucket size


@record
class AcceptRequest:
    """One request of one account: the rate-limit token is taken once for the whole request,
    then each message is deduplicated and paid for in order, all in one transaction."""

    account_id: int
    now: float
    messages: tuple[NewMessage, ...]
    rate_limit: RateLimit | None = None
    dedupe_window: float = 120.0


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # same account + phone + text within the dedupe window
    NO_MONEY = "no_money"  # balance does not cover the message's parts
    GONE = "gone"  # its held parts were already finished elsewhere: nothing to accept


@record
class AcceptResult:
    # Set when the request was refused by the rate limit; then nothing was stored.
    retry_after: float | None
    outcomes: tuple[Outcome, ...] = ()  # aligned with AcceptRequest.messages


@record
class ClaimedPart:
    """A part a node has claimed to submit, with everything submit_sm needs."""

    part_id: int
    message_id: int
    account_id: int
    sender: str
    phone: str
    data_coding: int
    seq: int
    total: int
    concat_ref: int
    payload: bytes
    attempts: int
    expires_at: float
    want_receipt: bool = True


@record
class SubmitDone:
    part_id: int
    connector: str
    operator_id: str
    at: float


@record
class SubmitFailed:
    part_id: int
    state: PartState  # a final state: REJECTD or UNDELIV
    error: int  # SMPP command_status or network error code
    at: float


@record
class OperatorReceipt:
    connector: str
    operator_id: str
    state: PartState
    error: int
    at: float


@record
class Unreceipted:
    """A part the operator took whose receipt has not come: what query_sm asks about."""

    part_id: int
    operator_id: str
    sender: str
    submitted_at: float


@record
class MessageView:
    id: int
    account_id: int
    status: Status
    phone: str
    sender: str
    created_at: float
    done_at: float | None
    error: int
    client_ref: str | None = None


# The outbox's kinds: each transport pumps only its own (gateway/outbox/).
RECEIPTS = "receipts"  # SMPP deliver_sm receipts to the customer's binds
CALLBACKS = "callbacks"  # a message's own callback URL (dlr_url, callback_url)
INBOUND = "inbound"  # inbound SMS (MO) to the account's SMPP receiving binds
WEBHOOKS = "webhooks"  # signed JSON events to an account's webhook endpoints


def callback_payload(url: str, method: str) -> str:
    """What a callbacks outbox row carries besides its message's columns (orjson: one a
    message on the receipt path)."""
    return orjson.dumps({"url": url, "method": method}).decode()


@record
class MessageFilter:
    """What a customer looks for in its message log; every field left None matches all.
    `before_id` is the page cursor: ids are time-ordered, so a page is "older than this"."""

    phone: str | None = None  # international digits: a prefix of the number
    number: str | None = None  # international digits: exactly this recipient
    status: Status | None = None
    sender: str | None = None
    door: str | None = None
    since: float | None = None  # created_at >= since
    until: float | None = None  # created_at < until
    before_id: int | None = None
    message_id: int | None = None  # one message by its own id (not an alias)


@record
class MessageLine:
    """One message as its log shows it: what was sent, to whom, by which door, for how much."""

    id: int
    status: Status
    phone: str
    sender: str
    door: str
    text: str
    data_coding: int
    parts: int
    price_per_part: int
    created_at: float
    done_at: float | None
    error: int
    client_ref: str | None = None

    @property
    def price(self) -> int:
        return self.price_per_part * self.parts


@record
class OutboxItem:
    """One thing to tell a customer, of one `kind`. A receipt (and a callback) is about one
    message: its status and error, and for a receipt the `pdu_id` its submit_sm_resp
    carried; the message's fields are filled in from it (empty for a row with no message).
    Other kinds say what they carry in `payload` (JSON text)."""

    id: int
    account_id: int
    message_id: int  # 0: the row is about no message
    pdu_id: int  # 0 for kinds other than receipts
    status: Status | None
    error: int
    phone: str
    sender: str
    text: str
    parts: int
    submitted_at: float
    done_at: float
    attempts: int = 0
    kind: str = RECEIPTS
    payload: str | None = None
    # When the row was queued (a redelivered copy: when it was redelivered); an HTTP
    # transport's 24 h of retries runs from here. 0.0: as done_at.
    queued_at: float = 0.0


@record
class NewOutboxItem:
    """An outbox item queued on its own, not by a message's change: a redelivery, or a kind
    whose change is stored elsewhere. `due_at`: not sent before (None: at once)."""

    account_id: int
    kind: str
    created_at: float
    message_id: int | None = None
    status: Status | None = None
    error: int = 0
    payload: str | None = None
    due_at: float | None = None


@record
class OutboxAttempt:
    """One try at delivering an outbox item, as the store logs it, and what comes next: done
    (`retry_at` None and not `dead`), tried again at `retry_at`, or a dead letter."""

    item_id: int
    at: float
    status: int | None  # the answer's HTTP status; None when no answer came
    latency: float  # seconds
    error: str | None = None
    retry_at: float | None = None
    dead: bool = False


@record
class AccountEvent:
    """One change of an account's message as the event log keeps it (store/events.py says
    the types and their data); `seq` only grows within the account."""

    seq: int
    type: str
    at: float
    message_id: int | None
    part_id: int | None
    data: str | None  # JSON object, or None


@record
class HeldPart:
    """One part of a long message a customer sent as several submit_sm, already answered
    with `id`, waiting in the store for the others."""

    id: int
    account_id: int
    source: str
    destination: str
    ref: int
    total: int
    seq: int  # 1-based
    data_coding: int
    payload: bytes  # without its UDH
    wants_receipt: bool
    lifetime: float | None  # seconds, from its validity_period; None: the default
    received_at: float


@record
class HoldResult:
    id: int  # the id to answer with: an earlier copy's, for a part sent again
    # When this part completed its message: all of its parts in order, claimed by the caller
    # (no other node finishes them until the claim lapses).
    complete: tuple[HeldPart, ...] = ()
    retry_after: float | None = None  # refused by the account's rate limit: nothing kept


@record
class HeldDue:
    """Held messages a sweep must finish: complete ones whose finisher's claim lapsed (it
    died between claiming and accepting), and incomplete ones past the assembly timeout."""

    complete: list[tuple[HeldPart, ...]]
    incomplete: list[tuple[HeldPart, ...]]


@record
class RefusedMessage:
    """A long message whose parts were all answered OK but that cannot be sent (refused once
    whole, or never completed): stored as a REJECTD message under the parts' ids, so they
    answer status queries, with a receipt queued for each part that asked for one."""

    parts: tuple[HeldPart, ...]
    phone: str
    text: str
    error: int
    now: float


@record
class KeyClaim:
    """An Idempotency-Key already taken: the request that took it (its body's fingerprint)
    and the answer it got, `status` None while that request is still being served."""

    fingerprint: str
    status: int | None
    body: bytes | None


@record
class PartView:
    """One part of a message as its customer may see it: where it is and what it cost."""

    id: int
    seq: int
    total: int
    state: PartState
    price: int
    connector: str | None
    operator_id: str | None
    submitted_at: float | None
    done_at: float | None
    error: int


@record
class NumberRoute:
    """A number (long number or short code, digits only) that belongs to an account; with a
    keyword, only the messages whose first word it is ("" means every other message)."""

    number: str
    account_id: int
    keyword: str = ""  # folded (domain/keywords.keyword); "" for the number's default route


@record
class NewInbound:
    """An inbound SMS (MO) as it is stored: routed (account_id set) or kept unroutable
    (`reason` says why). `opt`: "out" or "in" when it is an opt-out or opt-in keyword, applied
    to the account's suppression list in the same transaction."""

    source: str  # the sender's number, digits
    destination: str  # our number it was sent to
    text: str
    data_coding: int
    parts: int  # parts that arrived
    total: int  # parts it said it had
    connector: str
    received_at: float
    account_id: int | None = None
    keyword: str = ""
    reason: str = ""  # why no account takes it
    opt: str = ""  # "out", "in" or ""


@record
class KeptInboundPart:
    """One part of a concatenated inbound SMS as kept until its siblings come (`id` 0 before
    it is kept); `node_id` is the node whose intake joins it."""

    id: int
    node_id: int
    connector: str
    source: str
    source_ton: int
    destination: str
    ref: int
    total: int
    seq: int
    sixteen_bit: bool
    data_coding: int
    payload: bytes
    received_at: float


@record
class InboundRecord:
    """A stored inbound SMS; `id` only grows (the `after=` cursor of the inbound API)."""

    id: int
    account_id: int | None
    source: str
    destination: str
    text: str
    data_coding: int
    parts: int
    total: int
    connector: str
    received_at: float
    keyword: str = ""
    reason: str = ""

    @property
    def complete(self) -> bool:
        return self.parts >= self.total


@record
class Suppression:
    """A number an account must not send to: it opted out ("sms"), or the admin put it there."""

    account_id: int
    phone: str
    source: str  # "sms" (the recipient's STOP) or "admin"
    created_at: float


# The event types a webhook endpoint may subscribe to.
# Webhook subscriptions. `message.status`: a message's final status; `message.status.all`:
# every change, ENROUTE (the operator took it) included, as events of type message.status
# (an endpoint subscribed to both gets each once); `message.inbound`: an inbound SMS.
MESSAGE_STATUS = "message.status"
MESSAGE_STATUS_ALL = "message.status.all"
MESSAGE_INBOUND = "message.inbound"
WEBHOOK_EVENT_TYPES = (MESSAGE_STATUS, MESSAGE_STATUS_ALL, MESSAGE_INBOUND)


@record
class WebhookEndpoint:
    """An account's webhook endpoint: where its events of `event_types` go, signed with
    `secret` and, during a rotation, also with `old_secret` (both `whsec_...`: signing keys the
    gateway must use, so kept as they are, not hashed like passwords).

    Health: `failing_since` (first failure after the last success), `disabled_at` with its
    reason (set after a day of failures, cleared only by an operator), `blocked_until` (a
    delivery waits for its retry then; the endpoint's later events wait behind it)."""

    id: int
    account_id: int
    url: str
    event_types: tuple[str, ...]
    secret: str
    old_secret: str | None
    created_at: float
    failing_since: float | None = None
    disabled_at: float | None = None
    disabled_reason: str | None = None
    blocked_until: float | None = None

    @property
    def enabled(self) -> bool:
        return self.disabled_at is None

    def __repr__(self) -> str:
        # Never print the secrets: logs and tracebacks show the endpoint, not its keys.
        return f"WebhookEndpoint(id={self.id}, account_id={self.account_id}, url={self.url!r})"


@record
class EndpointHealth:
    """What the webhook transport writes back about an endpoint after its attempts."""

    failing_since: float | None
    disabled_at: float | None
    disabled_reason: str | None
    blocked_until: float | None


@record
class DeadLetter:
    """An outbox item given up (after its retries, or refused at once): what it was, how often
    it was tried and the last error; redelivering it queues a copy with the same payload."""

    item_id: int
    account_id: int
    kind: str
    payload: str | None
    created_at: float
    dead_at: float
    attempts: int
    last_error: str | None
    message_id: int | None = None  # a callback's message (kind "callbacks"); else None
    status: str | None = None  # the status a callback reported


@record
class Delivery:
    """One outbox item of a message as its page shows it: a callback of `status` queued at
    `created_at`, delivered (`delivered_at` without `dead_at`), given up (`dead_at`) or still
    being tried (neither). A redelivered dead letter reads as settled; its copy is a later item
    with the same payload."""

    item_id: int
    kind: str
    status: str | None
    payload: str | None
    created_at: float
    delivered_at: float | None
    dead_at: float | None
    attempts: int
    last_error: str | None


class LedgerKind(StrEnum):
    """What moved an account's spendable balance (the ledger, store/ledger.py)."""

    TOP_UP = "top_up"  # money added
    ADJUSTMENT = "adjustment"  # money taken back by the admin (a correction)
    CHARGE = "charge"  # a message accepted: its parts' price, reserved then spent
    REFUND = "refund"  # parts that ended without the operator taking them: money back
    CARRIED = "carried"  # the charges of messages retention deleted, folded together
    OPENING = "opening"  # the money the account had when its ledger began


@record
class LedgerEntry:
    """One line of an account's ledger. `amount` is signed: what it did to the balance.
    `entry_id` is the ledger row's id; 0 for a charge, which its message is."""

    kind: LedgerKind
    amount: int
    at: float
    message_id: int | None
    entry_id: int = 0


@record
class LedgerPosition:
    """Where a page of the ledger ended, per source: the next page is what lies past it.
    None everywhere: the first page."""

    entry_at: float | None = None  # the last ledger row shown: (at, id)
    entry_id: int | None = None
    charge_before: int | None = None  # the last charge shown: its message id


@record
class LedgerCheck:
    """An account's money against its ledger: `balance` must equal the ledger's sum, and the
    money held or spent on messages (`reserved + charged`) what the ledger charged them less
    what it refunded."""

    account_id: int
    balance: int
    ledger: int
    held: int  # reserved + charged
    spent: int  # charges (with carried ones) less refunds, by the ledger

    @property
    def ok(self) -> bool:
        return self.balance == self.ledger and self.held == self.spent


@record
class UsageRow:
    """Messages of one group (a UTC day's number, a status, the first three digits of the
    number) created in a period: how many, their parts, and their cost net of refunds."""

    key: str
    messages: int
    parts: int
    cost: int


@record
class TrafficRow:
    """Messages created in one time bucket (`start`, UTC seconds, a multiple of the step): how
    many, and how many of them are delivered and failed (UNDELIV, EXPIRED, REJECTD) by now."""

    start: float
    sent: int
    delivered: int
    failed: int


# How usage is grouped in the store: by UTC day, by status, or by the first three digits of
# the number (a country code is at most three digits, so they decide it; gateway/usage.py).
UsageGroup = Literal["day", "status", "prefix"]
