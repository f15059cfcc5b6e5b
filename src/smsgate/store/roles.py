"""The store by role: one small Protocol per kind of caller, so that a room above depends only
on the calls it makes (the dispatcher on Claims, the receipt pump on Outbox, ...). Both stores
implement every role: SqlStore (SQLite, PostgreSQL) and MemoryStore (tests); interface.Store
is their union.

Every decision that must hold across nodes (money, duplicates, rate limits, claims, leases) is
made inside these calls, in the store, never in a caller's memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from smsgate.domain.status import Status
from smsgate.store.records import (
    RECEIPTS,
    AcceptRequest,
    AcceptResult,
    AccountEvent,
    AccountRecord,
    AccountSummary,
    Balance,
    ClaimedPart,
    Credentials,
    DeadLetter,
    Delivery,
    EndpointHealth,
    HeldDue,
    HeldPart,
    HoldResult,
    InboundRecord,
    KeptInboundPart,
    KeyClaim,
    LedgerCheck,
    LedgerEntry,
    LedgerPosition,
    LoginFailure,
    MessageFilter,
    MessageLine,
    MessageView,
    NewInbound,
    NewOutboxItem,
    NumberRoute,
    OperatorReceipt,
    OutboxAttempt,
    OutboxItem,
    PartView,
    RateLimit,
    RefusedMessage,
    SubmitDone,
    SubmitFailed,
    Suppression,
    Tariff,
    TrafficRow,
    Unreceipted,
    UsageGroup,
    UsageRow,
    WebhookEndpoint,
)


class Lifecycle(Protocol):
    async def open(self) -> None:
        """Connect and apply migrations."""

    async def close(self) -> None: ...


class AccountReads(Protocol):
    """What serving a request reads of an account: who it is, its sender names, its prices."""

    async def account(self, account_id: int) -> AccountRecord | None: ...
    async def credentials(self, login: str) -> Credentials | None: ...
    async def account_by_token_hash(self, token_hash: str) -> AccountRecord | None: ...
    async def originators(self, account_id: int) -> list[str]: ...
    async def tariffs(self, account_id: int) -> list[Tariff]:
        """The account's own tariffs and the default plan's."""

    async def balance(self, account_id: int) -> Balance: ...


class AccountAdmin(AccountReads, Protocol):
    """Accounts, secrets' hashes, money, sender names and tariffs, as the admin changes them."""

    async def create_account(
        self, login: str, *, currency: str = "UAH", rate_limit: float = 9.0, max_binds: int = 4
    ) -> AccountRecord: ...
    async def set_token_hash(self, account_id: int, token_hash: str) -> None: ...
    async def set_password_hash(self, account_id: int, password_hash: str) -> None: ...
    async def set_smpp_password_hash(self, account_id: int, password_hash: str) -> None: ...
    async def set_active(self, account_id: int, active: bool) -> None: ...
    async def set_admin(self, account_id: int, admin: bool) -> None:
        """Mark an account an operator (or not): the dashboard's operator pages follow it."""

    async def set_rate_limit(self, account_id: int, rate_limit: float) -> None: ...
    async def list_accounts(self) -> list[AccountSummary]: ...
    async def top_up(self, account_id: int, amount: int) -> Balance:
        """Add money (or take it back with a negative amount, never below zero)."""

    async def add_originator(self, account_id: int, name: str) -> None: ...
    async def remove_originator(self, account_id: int, name: str) -> bool: ...
    async def set_tariff(self, tariff: Tariff) -> None: ...
    async def remove_tariff(self, account_id: int | None, prefix: str) -> bool: ...


class Accepting(Protocol):
    """The hot path in: messages become durable, paid for and queued."""

    async def accept(self, request: AcceptRequest) -> AcceptResult:
        """Rate-limit, deduplicate, reserve money and persist, in one transaction; concurrent
        calls are group-committed. When this returns, every ACCEPTED message is durable."""

    async def accept_many(
        self, requests: Sequence[AcceptRequest]
    ) -> list[AcceptResult | BaseException]:
        """`accept` for each request, queued together: one result per request, in order, an
        exception in the slot of a request that failed (the others are not affected)."""


class RequestLimits(Protocol):
    """Every request of an account spends one token of its rate bucket (the same bucket its
    accepts and held parts spend), decided in the store so that nodes share one limit."""

    async def take_token(self, account_id: int, now: float, limit: RateLimit) -> float | None:
        """Spend one token: None when allowed, else seconds until one would be (nothing is
        spent then). An unknown account raises StoreError."""


class LoginFailures(Protocol):
    """Failed password checks, counted where every worker and node sees them, so a guesser
    spreading over them gains nothing. The store only counts and keeps locks: how many
    failures lock a key, and for how long, is the gateway's (login_throttle.py)."""

    async def login_failures(self, keys: Sequence[str]) -> dict[str, LoginFailure]:
        """The keys' counts and locks as stored; a key nothing was counted on is absent."""

    async def count_login_failure(
        self, keys: Sequence[str], now: float, forget_after: float
    ) -> dict[str, LoginFailure]:
        """One failure more on each key, in one transaction: each key's count after it. A
        count idle `forget_after` seconds whose lock has run out starts again; such stale
        keys are deleted, so the table stays bounded whatever keys a guesser sprays."""

    async def lock_login(self, key: str, until: float) -> None:
        """Lock a counted key until `until`; a later lock already there stays."""

    async def forget_login_failures(self, keys: Sequence[str]) -> None:
        """Drop the keys' counts (a right password)."""


class Messages(Protocol):
    """A customer's look at (and hand on) the messages it sent."""

    async def statuses(self, account_id: int, ids: Sequence[int]) -> dict[int, Status]:
        """Statuses of the given ids (message ids or their aliases) that belong to the
        account; ids of other accounts and unknown ids are simply absent."""

    async def message(self, account_id: int, message_id: int) -> MessageView | None: ...

    async def message_parts(self, account_id: int, message_id: int) -> list[PartView]:
        """The parts of a message (by its id or an alias) of the account, in order; empty
        for an unknown id or another account's."""

    async def cancel(self, account_id: int, message_id: int, at: float) -> bool:
        """Cancel a message none of whose parts has left yet; refund it. False otherwise."""

    async def search_messages(
        self, account_id: int, where: MessageFilter, limit: int
    ) -> list[MessageLine]:
        """The account's messages matching `where`, newest (highest id) first, at most
        `limit`; never another account's."""


class Changes(Protocol):
    """A cheap sign of commits, for pollers that would otherwise query while idle."""

    def data_version(self) -> int | None:
        """A number that differs after any other connection or process commits to the
        database; None where the store cannot tell cheaply (PostgreSQL, memory), and the
        caller polls as it would without it. Never a query: it may be asked every few ms."""

    async def changed(self, seen: int | None, timeout: float) -> None:
        """Return once data_version() differs from `seen` (at once if it already does, or
        if `seen` is None), or after `timeout` seconds."""


class Claims(Protocol):
    """The dispatcher's side: queued parts claimed by a node, and what becomes of those that
    the operator did not take."""

    async def claim_parts(
        self, node_id: int, now: float, limit: int, claim_ttl: float
    ) -> list[ClaimedPart]:
        """Atomically move up to `limit` due QUEUED parts to SENDING for this node, oldest
        due first, skipping parts of expired messages; returned in part id order."""

    async def requeue(self, part_ids: Sequence[int], not_before: float) -> None:
        """Temporary failure: back to QUEUED, due again at `not_before`."""

    async def failed(self, failures: Sequence[SubmitFailed]) -> None:
        """Permanent failure before the operator took the part: final state, refund."""

    async def expire(self, now: float) -> int:
        """End QUEUED parts past their message's lifetime as EXPIRED, refunded."""

    async def release_claims(self, now: float, node_id: int | None = None) -> int:
        """SENDING parts whose claim lapsed (or all of node_id's) go back to QUEUED."""

    async def queue_depth(self) -> int: ...
    async def awaiting_receipts(self) -> dict[str, int]:
        """Parts the operator took and has not reported on yet, by connector (every node)."""


class Receipts(Protocol):
    """What the operator said about parts it took: its answers and its delivery receipts."""

    async def submitted(self, done: Sequence[SubmitDone]) -> None:
        """Parts the operator accepted: record operator ids, charge the reserved money, and
        apply any receipt that arrived before this was stored."""

    async def apply_receipts(
        self, receipts: Sequence[OperatorReceipt], answers: Sequence[SubmitDone] = ()
    ) -> None:
        """Move parts forward by operator receipts (monotonic); keep unmatched ones until
        their part's submit is recorded. `answers` are recorded first in the same
        transaction, as by submitted(): a receipt that comes while its part's answer is
        still on its way to the store is applied with it, not kept as unmatched."""

    async def unreceipted(
        self, connector: str, submitted_after: float, submitted_before: float, limit: int
    ) -> list[Unreceipted]:
        """Parts this connector's operator took in (submitted_after, submitted_before] whose
        receipt has not come, oldest submit first: what the connector asks about."""

    async def unreceipted_ended(
        self, connector: str, ended_before: float, limit: int
    ) -> list[Unreceipted]:
        """Parts this connector's operator took whose message's lifetime ended before
        `ended_before` and whose receipt has not come, earliest end first: asked about once
        more before they end EXPIRED (the operator may know by then)."""

    async def forget_unmatched(self, received_before: float) -> int:
        """Delete the receipts kept unmatched that came before `received_before`; how many.
        One kept that long waits for an answer that will not come: a receipt for an id we
        never sent, or for a submit answered after its timeout and sent again."""

    async def expire_unreceipted(self, lapsed_before: float, now: float) -> int:
        """Parts the operator took whose message's lifetime ended before `lapsed_before` and
        whose receipt never came end EXPIRED at `now`. Their money stays charged (the operator
        took them, as with an EXPIRED receipt); customers are told as for any receipt."""


class Outbox(Protocol):
    """What customers must be told, queued in the transaction that changed it; each kind
    (records.RECEIPTS, records.CALLBACKS, ...) is read by its own transport's pump."""

    async def outbox_pending(
        self, account_id: int, limit: int, *, kind: str = RECEIPTS, after: int = 0
    ) -> list[OutboxItem]:
        """Undelivered items of a kind for an account that are due now, oldest first; only
        those with an id above `after` (a reader that has the ones below in hand)."""

    async def outbox_done(self, item_ids: Sequence[int]) -> None: ...

    async def outbox_accounts(self, *, kind: str = RECEIPTS) -> list[int]:
        """Accounts that have undelivered items of a kind due now, in id order."""

    async def outbox_depth(self) -> dict[str, int]:
        """Items of each kind neither delivered nor given up, every account's, due now or
        later (receipts kept for a customer's next bind included): the outbox's backlog,
        for the metrics. Kinds with none are absent."""

    async def outbox_add(self, items: Sequence[NewOutboxItem]) -> None:
        """Queue items that no message change queues (a redelivery, another table's change);
        a change's own items are queued inside its transaction by the store."""

    async def outbox_attempted(self, attempts: Sequence[OutboxAttempt]) -> None:
        """Log these attempts and settle their items in one transaction: delivered, due again
        at `retry_at` (its last error kept), or dead letters. Items already settled stay."""

    async def outbox_attempts(self, item_id: int) -> list[OutboxAttempt]:
        """The attempts logged for an item, oldest first (`retry_at`/`dead` not kept)."""


class Events(Protocol):
    """The event log of an account, replayed in order (a customer catching up)."""

    async def events(self, account_id: int, after: int, limit: int) -> list[AccountEvent]:
        """The account's events with seq > `after`, oldest first, at most `limit`."""


class Leases(Protocol):
    """Named leases between nodes: who runs a connector, who pumps an account's receipts."""

    async def take_lease(self, key: str, holder: str, now: float, ttl: float) -> bool:
        """Take or renew a named lease; False while another holder's lease is live."""

    async def take_leases(
        self, holder: str, now: float, takes: Sequence[tuple[str, float]]
    ) -> list[bool]:
        """take_lease for each (key, ttl), in one transaction: a node's lease round is one
        commit however many leases it renews."""

    async def release_lease(self, key: str, holder: str) -> None: ...

    async def live_leases(self, now: float) -> dict[str, tuple[str, float]]:
        """Every lease still live at `now`: key -> (holder, expires_at)."""


class Ledger(Protocol):
    """An account's money as a ledger (store/ledger.py): every top-up, charge, refund and
    correction, and the proof that each balance is their sum."""

    async def ledger_page(
        self, account_id: int, position: LedgerPosition, limit: int
    ) -> list[LedgerEntry]:
        """At most `limit` entries past `position`, newest first (ledger.position_after
        gives the next page's position)."""

    async def ledger_check(self, account_id: int | None = None) -> list[LedgerCheck]:
        """Each account's balance against its ledger (one account's, or every one's)."""

    async def usage(
        self, account_id: int, since: float, until: float, group: UsageGroup
    ) -> list[UsageRow]:
        """The account's messages created in [since, until) by group: how many, their parts,
        their cost less refunds; by key."""

    async def traffic(
        self, account_id: int, since: float, until: float, step: int
    ) -> list[TrafficRow]:
        """The account's messages created in [since, until) in buckets of `step` seconds
        (aligned to the epoch, so a day is a UTC day), oldest first; empty buckets left out."""


class Retention(Protocol):
    """Old messages go in two steps: their texts erased, later their rows deleted. Only
    finished messages (a final status) are touched, and never an account's money: balances
    and charged totals stay as they are, and deleted messages' charges stay in the ledger.
    Inbound SMS go the same two steps, by the time they were received."""

    async def erase_texts(self, before: float, limit: int) -> int:
        """Blank the text and part payloads of up to `limit` finished messages created before
        `before` whose text is not blank yet; how many."""
        ...

    async def delete_messages(self, before: float, limit: int) -> int:
        """Delete up to `limit` finished messages created before `before`, with their parts,
        aliases, receipt requests and outbox rows; how many."""
        ...

    async def erase_inbound_texts(self, before: float, limit: int) -> int:
        """Blank the text of up to `limit` inbound SMS received before `before` (routed or
        not) whose text is not blank yet; how many."""
        ...

    async def delete_inbound(self, before: float, limit: int) -> int:
        """Delete up to `limit` inbound SMS received before `before`, never the newest one
        (only its text goes): ids keep growing past the deleted ones, so a client's `after=`
        cursor stays valid. How many."""
        ...

    async def delete_events(self, before: float, limit: int) -> int:
        """Delete up to `limit` of the oldest events of the accounts' logs that happened before
        `before`, each account's from its first seq on (a log only loses its beginning: a
        client's `after=` cursor stays valid, and the seqs go on from the account's counter);
        how many."""
        ...

    async def delete_settled_outbox(self, before: float, limit: int) -> int:
        """Delete up to `limit` outbox items no message owns (inbound SMS for SMPP binds and
        their webhooks, which carry the text) delivered or given up before `before`, with
        the attempts logged for them; how many. Items still waiting stay."""
        ...


class HeldParts(Protocol):
    """Long SMPP messages sent part by part, kept until whole (held_parts.py)."""

    async def hold_part(
        self, part: HeldPart, now: float, claim_for: float, rate_limit: RateLimit | None = None
    ) -> HoldResult:
        """Keep one part of a long message until the others arrive."""

    async def held_due(self, now: float, incomplete_before: float, claim_for: float) -> HeldDue:
        """Claim held messages a sweep must finish: complete ones whose claim lapsed and
        incomplete ones older than `incomplete_before`."""

    async def refuse_held(self, refused: RefusedMessage) -> bool:
        """Store a held message as REJECTD with its receipts; False if already finished."""


class IdempotencyKeys(Protocol):
    """A customer's Idempotency-Key and the first answer given under it, decided in the store
    so that a retry landing on another node is still recognised."""

    async def claim_key(
        self, account_id: int, key: str, fingerprint: str, now: float, keep_for: float
    ) -> KeyClaim | None:
        """Take `key` for a request whose body hashes to `fingerprint`: None when this caller
        is first (or the key was taken more than `keep_for` seconds ago) and must serve it;
        else the claim that holds the key."""

    async def answer_key(self, account_id: int, key: str, status: int, body: bytes) -> None:
        """Keep the answer given under a key this caller claimed."""

    async def release_key(self, account_id: int, key: str) -> None:
        """Give up a key whose request changed nothing (it failed before the store), so a
        retry with it is served afresh. A key already answered is kept."""


class Inbound(Protocol):
    """Inbound SMS (MO): the numbers accounts own, and the messages, routed or unroutable."""

    async def add_number(self, route: NumberRoute) -> None:
        """Give a number (and keyword) to an account; StoreError if another account has it."""

    async def remove_number(self, number: str, keyword: str = "") -> bool: ...
    async def number_routes(self) -> list[NumberRoute]:
        """Every route, by number and keyword."""

    async def store_inbound(
        self, messages: Sequence[NewInbound], release: Sequence[int] = ()
    ) -> list[int]:
        """Store inbound messages in one transaction, with the opt-outs and opt-ins they ask
        for, deleting the kept parts (`keep_inbound_part` ids) they were joined from; their
        ids, in order. When this returns they are durable."""

    async def keep_inbound_part(self, part: KeptInboundPart) -> int | None:
        """Keep one part of a concatenated inbound SMS until its message is stored; its id,
        or None when this node already keeps that part (a copy the operator sent again)."""

    async def kept_inbound_parts(self, node_id: int) -> list[KeptInboundPart]:
        """The parts a node keeps, oldest first: what its last life had not yet joined."""

    async def inbound_after(self, account_id: int, after: int, limit: int) -> list[InboundRecord]:
        """An account's inbound messages with ids above `after`, oldest first."""

    async def unroutable(self, after: int, limit: int) -> list[InboundRecord]:
        """Inbound messages no account took, ids above `after`, oldest first."""


class Suppressions(Protocol):
    """The numbers each account must not send to (opt-outs)."""

    async def suppress(self, account_id: int, phone: str, source: str, at: float) -> bool:
        """Put a number on the list; False if it was there already."""

    async def unsuppress(self, account_id: int, phone: str) -> bool: ...
    async def suppressions(self, account_id: int) -> list[Suppression]:
        """The account's list, by number."""


class WebhookEndpoints(Protocol):
    """An account's webhook endpoints, as the admin configures them and the webhook transport
    reads and heals or disables them. Their secrets are signing keys (stored as given)."""

    async def add_webhook_endpoint(
        self, account_id: int, url: str, event_types: Sequence[str], secret: str, at: float
    ) -> WebhookEndpoint: ...
    async def webhook_endpoint(self, endpoint_id: int) -> WebhookEndpoint | None: ...
    async def webhook_endpoints(self, account_id: int | None = None) -> list[WebhookEndpoint]:
        """One account's endpoints (every account's when None), in id order."""

    async def remove_webhook_endpoint(self, endpoint_id: int) -> bool:
        """Its pending deliveries become dead letters when the transport reaches them."""

    async def set_webhook_secrets(
        self, endpoint_id: int, secret: str, old_secret: str | None
    ) -> bool:
        """Sign with `secret` and, during a rotation, also `old_secret`; False if unknown."""

    async def set_webhook_health(self, endpoint_id: int, health: EndpointHealth) -> bool:
        """Failing since, disabled (and why), blocked until; EndpointHealth(None, ...) heals
        and re-enables it. False if unknown."""


class DeadLetters(Protocol):
    """Outbox items given up after their retries, for an operator to see and send again."""

    async def dead_letters(
        self, kind: str, account_id: int | None = None, limit: int = 100
    ) -> list[DeadLetter]:
        """Dead letters of a kind (of one account, or all), oldest first."""

    async def redeliver(self, kind: str, item_ids: Sequence[int], at: float) -> list[int]:
        """Queue a copy of each of these dead letters (same payload, a fresh retry window)
        and take them out of the dead letters, in one transaction; the ids it redelivered."""

    async def callback_deliveries(self, account_id: int, message_id: int) -> list[Delivery]:
        """A message's callbacks (outbox items of kind "callbacks"), oldest first; none of
        another account's message."""
