"""The gateway's face to the doors: authenticate, send, status, balance, sender names.

Every door calls exactly these; no door validates, prices, deduplicates or stores by itself, so a
rule changes in one place. Sending is `submit.Submitter`; this class adds the read side and the
account lookups, with short-lived caches so the hot path does not query the store for every
request. It reaches the store only through the roles it calls (GatewayStore), privately: a door
that needs a service of its own (the outbox pump, long messages held part by part) gets it
built here, never the store.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Protocol

from smsgate.domain.status import Status
from smsgate.gateway.accounts import AccountCache
from smsgate.gateway.errors import InvalidRequest, RateLimited
from smsgate.gateway.held_messages import ASSEMBLY_TIMEOUT, ErrorCode, HeldMessages
from smsgate.gateway.idempotency import IdempotentCalls
from smsgate.gateway.ledger import LedgerBook, LedgerCursor, LedgerPage
from smsgate.gateway.outbox.outbox import Outbox
from smsgate.gateway.quote import (
    Priced,
    Quote,
    SendQuote,
    accepted_priced,
    priced,
    quote,
    total_of,
)
from smsgate.gateway.send_request import MAX_ITEMS, SendOutcome, SendRequest
from smsgate.gateway.submit import Submitter, rate_limit_of
from smsgate.gateway.usage import Grouping, Usage, UsageReports
from smsgate.gateway.views import (
    AccountEvent,
    AccountRecord,
    Balance,
    InboundRecord,
    MessageFilter,
    MessageLine,
    MessageView,
    PartView,
    TrafficRow,
)
from smsgate.gateway.webhook_setup import WebhookSetup
from smsgate.store.roles import (
    AccountReads,
    DeadLetters,
    Events,
    HeldParts,
    IdempotencyKeys,
    Inbound,
    Ledger,
    Messages,
    RequestLimits,
    WebhookEndpoints,
)

MAX_PAGE = 100  # messages per page of the native API's search
MAX_EVENTS = 1000  # events in one answer of a replay
MAX_BUCKETS = 1000  # time buckets in one traffic answer


class GatewayStore(
    Messages,
    AccountReads,
    HeldParts,
    IdempotencyKeys,
    Inbound,
    RequestLimits,
    Events,
    Ledger,
    WebhookEndpoints,
    DeadLetters,
    Protocol,
):
    """The store roles the gateway itself calls (messages, balances, long messages held part
    by part, Idempotency-Keys, inbound SMS, the rate limit of requests that are not sends,
    the event log, the ledger, the account's webhook endpoints and their dead letters);
    sending goes through the Submitter and the outbox through its own roles."""


class Gateway:
    def __init__(
        self,
        submitter: Submitter,
        accounts: AccountCache,
        store: GatewayStore,
        outbox: Outbox,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.submitter = submitter
        self.accounts = accounts
        self.outbox = outbox  # doors that are transports ask it for their pump
        self._store = store
        # Doors that take an Idempotency-Key serve a request through it.
        self.idempotent = IdempotentCalls(store)
        # The account's own webhook endpoints (the native API), by the operator's rules.
        self.webhooks = WebhookSetup(
            store, allow_private=submitter.allow_private_callbacks, clock=clock
        )
        self._ledger = LedgerBook(store)
        self._usage = UsageReports(store)
        self._clock = clock
        # account id -> the time its bucket was found short until. Nodes only ever take
        # tokens, never add them, so a request before then is refused here exactly as the
        # store would refuse it, without a write transaction: a client that keeps asking
        # while limited costs the database nothing.
        self._limited_until: dict[int, float] = {}

    async def authenticate_token(self, token: str) -> AccountRecord:
        return await self.accounts.by_token(token)

    async def authenticate_password(
        self, login: str, password: str, address: str | None = None
    ) -> AccountRecord:
        """`address`: the client's IP, so password guessing is throttled by it."""
        return await self.accounts.by_password(login, password, address)

    async def authenticate_smpp(
        self, login: str, password: str, address: str | None = None
    ) -> AccountRecord:
        return await self.accounts.by_smpp_password(login, password, address)

    async def send(self, account: AccountRecord, request: SendRequest) -> SendOutcome:
        """Raises InvalidRequest for a request refused before the store, after it spent the
        account's token like any other (RateLimited instead when the bucket is short)."""
        try:
            return await self.submitter.send(account, request)
        except InvalidRequest:
            await self.refused(account)
            raise

    async def send_many(
        self, account: AccountRecord, requests: Sequence[SendRequest]
    ) -> list[SendOutcome | Exception]:
        """`send` for each request, stored together; one answer or exception per request."""
        answers = await self.submitter.send_many(account, requests)
        for i, answer in enumerate(answers):
            if isinstance(answer, InvalidRequest):
                try:
                    await self.refused(account)
                except RateLimited as limited:
                    answers[i] = limited
        return answers

    async def refused(self, account: AccountRecord) -> None:
        """A request of `account` refused before it spent a token (a field the door or
        submit() would not take) spends one all the same: the rate limit counts every request
        of an account, so a client that repeats a bad request fast is told to slow down too.
        Raises RateLimited when the bucket is short; a door answers that instead of its
        refusal."""
        await self._spend_token(account)

    async def send_priced(
        self, account: AccountRecord, request: SendRequest
    ) -> tuple[SendOutcome, list[tuple[int, Priced]]]:
        """`send`, with each accepted message's id paired with what it costs."""
        staged, _ = await self.submitter.plan(account, request)
        outcome = await self.submitter.send(account, request)
        return outcome, accepted_priced([priced(s) for s in staged], outcome.accepted)

    async def price_send(self, account: AccountRecord, request: SendRequest) -> SendQuote:
        """What `send` would take for each recipient and in all, against the balance; raises
        as `send` would for a request it refuses. Nothing is stored or reserved."""
        staged, rejected = await self.submitter.plan(account, request)
        recipients = tuple(priced(s) for s in staged)
        balance = await self._store.balance(account.id)
        return SendQuote(
            recipients,
            tuple(rejected),
            total_of(recipients),
            balance.currency,
            balance.balance,
        )

    def new_id(self) -> int:
        """A fresh message id, for a part the SMPP door answers before its message exists."""
        return self.submitter.new_id()

    async def events(self, account: AccountRecord, after: int, limit: int) -> list[AccountEvent]:
        """The account's events after seq `after`, oldest first (at most `limit`)."""
        if after < 0:
            raise InvalidRequest("after", "after must be a seq, 0 or more")
        if not 1 <= limit <= MAX_EVENTS:
            raise InvalidRequest("limit", f"limit must be between 1 and {MAX_EVENTS}")
        return await self._store.events(account.id, after, limit)

    async def dry_run(self, account: AccountRecord, request: SendRequest) -> SendOutcome:
        """What `send` would refuse before the store; nothing is stored."""
        return await self.submitter.dry_run(account, request)

    async def status(
        self, account: AccountRecord, ids: Sequence[str]
    ) -> tuple[dict[str, Status], list[str]]:
        """Statuses keyed by the id string as given, and the ids that are unknown to this
        account (unknown and other accounts' ids are indistinguishable on purpose)."""
        await self._spend_token(account)
        if not ids:
            raise InvalidRequest("id", "No message ids given")
        if len(ids) > MAX_ITEMS:
            raise InvalidRequest("id", f"More than {MAX_ITEMS} message ids")
        numeric: dict[str, int] = {}
        for given in ids:
            value = _parse_id(given)
            if value is not None:
                numeric[given] = value
        found = await self._store.statuses(account.id, sorted(set(numeric.values())))
        known: dict[str, Status] = {}
        unknown: list[str] = []
        for given in ids:
            value = numeric.get(given)
            if value is not None and value in found:
                known[given] = found[value]
            else:
                unknown.append(given)
        return known, unknown

    async def message(self, account: AccountRecord, message_id: str) -> MessageView | None:
        await self._spend_token(account)
        value = _parse_id(message_id)
        if value is None:
            return None
        return await self._store.message(account.id, value)

    async def search(
        self, account: AccountRecord, where: MessageFilter, limit: int = 50
    ) -> list[MessageLine]:
        """The account's message log, newest first (the dashboard's and any listing's)."""
        return await self._store.search_messages(account.id, where, max(1, min(limit, 500)))

    async def quote(self, account: AccountRecord, phones: Sequence[str], text: str) -> Quote:
        """What sending `text` to `phones` would cost and how (quote.py); nothing is sent."""
        return await quote(self.submitter, account, phones, text, await self.balance(account))

    async def account(self, account_id: int) -> AccountRecord | None:
        """An account by id, active or not, read fresh (a session checks it on every page)."""
        return await self._store.account(account_id)

    async def message_parts(self, account: AccountRecord, message_id: int) -> list[PartView]:
        return await self._store.message_parts(account.id, message_id)

    async def cancel(self, account: AccountRecord, message_id: int) -> bool:
        """Cancel a message of this account none of whose parts has left yet (refunded).
        Spends no token: a door finds the message first (`message`), which spends one."""
        return await self._store.cancel(account.id, message_id, time.time())

    async def inbound(self, account: AccountRecord, after: int, limit: int) -> list[InboundRecord]:
        """The account's inbound SMS with ids above `after`, oldest first."""
        return await self._store.inbound_after(account.id, after, limit)

    async def balance(self, account: AccountRecord, *, own_request: bool = True) -> Balance:
        """`own_request=False`: read as part of a request that spent its token already (the
        native API's send answer carries the balance)."""
        if own_request:
            await self._spend_token(account)
        return await self._store.balance(account.id)

    async def ledger(
        self, account: AccountRecord, cursor: LedgerCursor | None, limit: int
    ) -> LedgerPage:
        """A page of the account's ledger, newest first (ledger.py)."""
        await self._spend_token(account)
        return await self._ledger.page(account, cursor, limit)

    async def usage(
        self, account: AccountRecord, first: date, last: date, group: Grouping
    ) -> Usage:
        """The account's messages, parts and cost from day `first` to `last` (usage.py)."""
        await self._spend_token(account)
        return await self._usage.usage(account, first, last, group)

    async def traffic(
        self, account: AccountRecord, since: float, until: float, step: int
    ) -> list[TrafficRow]:
        """The account's messages sent in [since, until) per `step` seconds, with how many of
        them are delivered and failed by now (the dashboard's charts); at most MAX_BUCKETS."""
        if step < 1 or until <= since or (until - since) / step > MAX_BUCKETS:
            raise InvalidRequest("step", f"at most {MAX_BUCKETS} buckets of a second or more")
        await self._spend_token(account)
        return await self._store.traffic(account.id, since, until, step)

    async def senders(self, account: AccountRecord) -> list[str]:
        await self._spend_token(account)
        return await self.accounts.senders(account.id)

    async def _spend_token(self, account: AccountRecord) -> None:
        """Every request of an account is rate-limited, not only sends (which spend their
        token in the accept's own transaction): raises RateLimited when its bucket is short."""
        limit = rate_limit_of(account)
        if limit is None:
            return
        now = self._clock()
        until = self._limited_until.get(account.id)
        if until is not None:
            if now < until:
                raise RateLimited(until - now)
            del self._limited_until[account.id]
        retry_after = await self._store.take_token(account.id, now, limit)
        if retry_after is not None:
            self._limited_until[account.id] = now + retry_after
            raise RateLimited(retry_after)

    def held_messages(
        self,
        error_code: ErrorCode,
        *,
        refused: Callable[[int], None] = lambda account_id: None,
        timeout: float = ASSEMBLY_TIMEOUT,
    ) -> HeldMessages:
        """Long messages a door takes part by part (held_messages.py); `refused(account_id)`
        is told when a refused one queued receipts."""
        return HeldMessages(
            self.submitter,
            self._store,
            self._store,
            error_code,
            refused=refused,
            timeout=timeout,
        )


def _parse_id(given: str) -> int | None:
    text = given.strip()
    if not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value < 2**63 else None
