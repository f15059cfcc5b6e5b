"""submit(): the one path every door uses to hand over messages.

It normalises numbers, checks the sender name, encodes and splits the text, prices every part,
assigns ids, and then lets the store rate-limit, deduplicate, reserve money and persist in one
transaction. When `send` returns, every accepted message is durable.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Protocol

from smsgate.domain.dedupe import DedupeKeys
from smsgate.domain.ids import IdGenerator
from smsgate.domain.phone import PhoneNormalizer
from smsgate.domain.pricing import AccountPricing
from smsgate.domain.segments import EmptyText, Segmented, split_text
from smsgate.gateway import metrics
from smsgate.gateway.accounts import AccountCache
from smsgate.gateway.errors import (
    AllDuplicates,
    InvalidRequest,
    RateLimited,
    Rejection,
    SenderNotAllowed,
)
from smsgate.gateway.send_request import MAX_ITEMS, SendItem, SendOutcome, SendRequest
from smsgate.immutable import record
from smsgate.store.records import (
    AcceptRequest,
    AcceptResult,
    AccountRecord,
    MessageCallback,
    NewMessage,
    NewPart,
    Outcome,
    RateLimit,
)
from smsgate.store.roles import Accepting, AccountReads, Suppressions
from smsgate.ttl_cache import TtlCache
from smsgate.webhooks.url_safety import UnsafeUrl, check_url

_OUTCOME_REJECTION = {
    Outcome.DUPLICATE: Rejection.DUPLICATE,
    Outcome.NO_MONEY: Rejection.NO_MONEY,
    Outcome.GONE: Rejection.ALREADY_FINISHED,
}

# How many distinct texts Submitter keeps split (each at most max_parts * 153 septets).
_SEGMENTED_TEXTS = 1024
_SAFE_CALLBACK_URLS = 1024  # callback URLs known to pass check_url, kept per process

# A recipient ready to send: as given, its number normalised, its text split, its price per part.
ReadyRecipient = tuple[SendItem, str, Segmented, int]


@record
class _CheckedRequest:
    """A request past every check before the store: its sender name and lifetime as used,
    its recipients ready to send, and how many ids they take."""

    sender: str
    lifetime: float
    ready: list[ReadyRecipient]
    id_count: int


@record
class SubmitPolicy:
    default_lifetime_minutes: float = 24 * 60
    max_lifetime_minutes: float = 7 * 24 * 60
    dedupe_window: float = 120.0
    # A text longer than this many parts is refused: a runaway loop in a client must not bill
    # hundreds of parts per recipient.
    max_parts: int = 10
    # How far ahead a send may be scheduled (its money is reserved until then).
    max_schedule_days: float = 30
    # Seconds an account's suppression list (opt-outs) is used before it is read again; an
    # opt-out this node stores takes effect here at once (Submitter.suppressions_changed).
    suppressions_ttl: float = 5.0
    # Callback URLs may point at loopback and private addresses (the `make run` demo).
    allow_private_callbacks: bool = False


class _Tariffs:
    """An account's tariffs, precompiled and cached briefly (a TtlCache: the requests that
    find them stale share one read): pricing runs for every recipient."""

    def __init__(self, store: AccountReads, clock: Callable[[], float], ttl: float = 10.0) -> None:
        self._store = store
        self._cache: TtlCache[int, AccountPricing] = TtlCache(ttl, clock)

    def cached(self, account_id: int) -> AccountPricing | None:
        entry = self._cache.peek(account_id)
        return None if entry is None else entry.value

    async def pricing(self, account_id: int) -> AccountPricing:
        return await self._cache.get(account_id, lambda: self._load(account_id))

    async def _load(self, account_id: int) -> AccountPricing:
        rows = await self._store.tariffs(account_id)
        return AccountPricing(
            [(t.prefix, t.price) for t in rows if t.account_id is None],
            [(t.prefix, t.price) for t in rows if t.account_id is not None],
        )


class _Suppressed:
    """An account's suppression list as a set of numbers, cached like its tariffs: every
    recipient is looked up in it."""

    def __init__(self, store: Suppressions, clock: Callable[[], float], ttl: float) -> None:
        self._store = store
        self._cache: TtlCache[int, frozenset[str]] = TtlCache(ttl, clock)

    def cached(self, account_id: int) -> frozenset[str] | None:
        entry = self._cache.peek(account_id)
        return None if entry is None else entry.value

    async def numbers(self, account_id: int) -> frozenset[str]:
        return await self._cache.get(account_id, lambda: self._load(account_id))

    def forget(self) -> None:
        self._cache.clear()

    async def _load(self, account_id: int) -> frozenset[str]:
        return frozenset(s.phone for s in await self._store.suppressions(account_id))


class SubmitStore(Accepting, AccountReads, Suppressions, Protocol):
    """What submitting asks of the store: accepts, the account's prices and the numbers it
    must not send to."""


class Submitter:
    def __init__(
        self,
        store: SubmitStore,
        accounts: AccountCache,
        ids: IdGenerator,
        *,
        phones: PhoneNormalizer | None = None,
        policy: SubmitPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._ids = ids
        self._phones = phones or PhoneNormalizer()
        self._policy = policy or SubmitPolicy()
        self._clock = clock
        self._tariffs = _Tariffs(store, clock)
        self._suppressed = _Suppressed(store, clock, self._policy.suppressions_ttl)
        # Texts already split, across requests: a campaign sends one text in many requests.
        # split_text is a pure function of the text and Segmented is immutable, so sharing is
        # exact. Only texts that passed the checks in _split are kept.
        self._segmented: dict[str, Segmented] = {}
        # Callback URLs that passed check_url (a pure rule of the URL and the policy): a
        # customer gives one URL to every message, and the check costs ~11 us a send.
        self._safe_callback_urls: set[str] = set()

    def suppressions_changed(self) -> None:
        """An opt-out or opt-in was stored: read the lists again before the next send."""
        self._suppressed.forget()

    def new_id(self) -> int:
        return self._ids.next_many(1)[0]

    async def prices(self, account: AccountRecord, phones: Sequence[str]) -> list[int | Rejection]:
        """Each number's price per part as `send` would charge it, or why `send` would refuse
        it (quote.py); nothing is stored."""
        pricing = await self._tariffs.pricing(account.id)
        found: list[int | Rejection] = []
        for given in phones:
            phone = self._phones.digits(given)
            price = None if phone is None else pricing.price(phone)
            if phone is None:
                found.append(Rejection.INVALID_PHONE)
            else:
                found.append(Rejection.NO_TARIFF if price is None else price)
        return found

    @property
    def allow_private_callbacks(self) -> bool:
        """Whether callback and webhook URLs may name loopback and private addresses."""
        return self._policy.allow_private_callbacks

    def number(self, phone: str) -> str | None:
        """A phone as given, in the international digits messages are stored under."""
        return self._phones.digits(phone)

    async def plan(
        self, account: AccountRecord, request: SendRequest
    ) -> tuple[list[ReadyRecipient], list[tuple[str, Rejection]]]:
        """The recipients as `send` would hand them to the store (as given, number, split
        text, price per part) and those it would reject before the store; raises as `send`
        does. Nothing stored: for quotes and for answers that show what each recipient costs."""
        self._check(request)
        senders, pricing, suppressed = await self._account_rules(account)
        checked, outcome = self._checked_request(request, senders, pricing, suppressed)
        return checked.ready, outcome.rejected

    async def dry_run(self, account: AccountRecord, request: SendRequest) -> SendOutcome:
        """Every rule `send` applies before the store (sender, numbers, tariff, text,
        lifetime), nothing stored: raises as `send` would, and lists the recipients `send`
        would reject before the store's own checks (money, duplicates, rate limit). For the
        SMPP door's parts of a long message, answered before the message is whole."""
        self._check(request)
        senders, pricing, suppressed = await self._account_rules(account)
        return self._checked_request(request, senders, pricing, suppressed)[1]

    async def send(self, account: AccountRecord, request: SendRequest) -> SendOutcome:
        self._check(request)
        senders, pricing, suppressed = await self._account_rules(account)
        checked, outcome = self._checked_request(request, senders, pricing, suppressed)
        accept = self._accept_request(account, request, checked)
        return self._outcome(request, checked, accept, await self._store.accept(accept), outcome)

    async def send_many(
        self, account: AccountRecord, requests: Sequence[SendRequest]
    ) -> list[SendOutcome | Exception]:
        """`send` for each of one account's requests, stored in one go (one wait for the
        store, not one each): an SMPP customer's submit_sm of one event-loop turn. One answer per
        request, in order; a request `send` would raise for gets that exception instead."""
        answers: list[SendOutcome | Exception | None] = [None] * len(requests)
        valid: list[int] = []
        for i, request in enumerate(requests):
            try:
                self._check(request)
            except Exception as exc:
                answers[i] = exc
            else:
                valid.append(i)
        ready: list[tuple[int, _CheckedRequest, SendOutcome, AcceptRequest]] = []
        if valid:
            senders, pricing, suppressed = await self._account_rules(account)
            for i in valid:
                try:
                    checked, outcome = self._checked_request(
                        requests[i], senders, pricing, suppressed
                    )
                    accept = self._accept_request(account, requests[i], checked)
                except Exception as exc:
                    answers[i] = exc
                else:
                    ready.append((i, checked, outcome, accept))
        results = await self._store.accept_many([r[3] for r in ready]) if ready else []
        for (i, checked, outcome, accept), result in zip(ready, results, strict=True):
            try:
                if isinstance(result, BaseException):
                    raise result
                answers[i] = self._outcome(requests[i], checked, accept, result, outcome)
            except Exception as exc:
                answers[i] = exc
        filled = [a for a in answers if a is not None]
        assert len(filled) == len(requests)  # every request answered, in its own slot
        return filled

    def _check(self, request: SendRequest) -> None:
        """What a request must be before anything is looked up."""
        items = request.items
        if not items:
            raise InvalidRequest("phone", "No recipients given")
        if len(items) > MAX_ITEMS:
            raise InvalidRequest("phone", f"More than {MAX_ITEMS} recipients")
        if not request.sender.strip():
            raise InvalidRequest("sender", "Sender name is required")
        if request.send_at is not None and not (
            request.send_at <= self._clock() + self._policy.max_schedule_days * 86_400
        ):
            raise InvalidRequest(
                "send_at",
                f"A send may be scheduled at most {self._policy.max_schedule_days:g} days ahead",
            )
        if request.pdu_count > self._policy.max_parts:  # an SMPP customer's own split
            raise InvalidRequest(
                "text", f"Message text is longer than {self._policy.max_parts} parts"
            )
        if request.callback is not None:
            self._check_callback(request.callback)

    def _check_callback(self, callback: MessageCallback) -> None:
        if callback.url in self._safe_callback_urls:
            return
        try:
            check_url(callback.url, allow_private=self._policy.allow_private_callbacks)
        except UnsafeUrl as exc:
            raise InvalidRequest("callback", f"Callback URL refused: {exc}") from None
        if len(self._safe_callback_urls) >= _SAFE_CALLBACK_URLS:
            self._safe_callback_urls.clear()
        self._safe_callback_urls.add(callback.url)

    async def _account_rules(
        self, account: AccountRecord
    ) -> tuple[frozenset[str], AccountPricing, frozenset[str]]:
        """The account's sender names, tariffs and suppressed numbers: cached answers without
        a coroutine; only a miss awaits the store."""
        senders = self._accounts.cached_sender_set(account.id)
        if senders is None:
            senders = await self._accounts.sender_set(account.id)
        pricing = self._tariffs.cached(account.id)
        if pricing is None:
            pricing = await self._tariffs.pricing(account.id)
        suppressed = self._suppressed.cached(account.id)
        if suppressed is None:
            suppressed = await self._suppressed.numbers(account.id)
        return senders, pricing, suppressed

    def _checked_request(
        self,
        request: SendRequest,
        senders: frozenset[str],
        pricing: AccountPricing,
        suppressed: frozenset[str],
    ) -> tuple[_CheckedRequest, SendOutcome]:
        """The recipients that can be sent; raises for a request that cannot be (sender name,
        lifetime, text), in the order `send` has always checked them."""
        sender = request.sender.strip()
        if sender not in senders:
            raise SenderNotAllowed(sender)
        lifetime = self._lifetime(request.lifetime_minutes)
        outcome = SendOutcome()
        ready, id_count = self._ready_recipients(request.items, pricing, suppressed, outcome)
        return _CheckedRequest(sender, lifetime, ready, id_count), outcome

    def _accept_request(
        self, account: AccountRecord, request: SendRequest, checked: _CheckedRequest
    ) -> AcceptRequest:
        now = self._clock()
        messages = self._messages(
            account, request, checked.sender, checked.ready, checked.id_count, now, checked.lifetime
        )
        return AcceptRequest(
            account_id=account.id,
            now=now,
            messages=messages,
            # Held parts each took a token when they came: the whole message takes none.
            rate_limit=None if request.held_ids else rate_limit_of(account),
            dedupe_window=self._policy.dedupe_window,
        )

    def _outcome(
        self,
        request: SendRequest,
        checked: _CheckedRequest,
        accept: AcceptRequest,
        result: AcceptResult,
        outcome: SendOutcome,
    ) -> SendOutcome:
        """The store's answer to one request: raises RateLimited or AllDuplicates as `send`
        does."""
        if result.retry_after is not None:
            raise RateLimited(result.retry_after)
        duplicates = self._outcomes(checked.ready, accept.messages, result.outcomes, outcome)
        if outcome.accepted:
            metrics.count_accepted(request.door, len(outcome.accepted))
        if outcome.rejected:
            # One add per reason, not per recipient: the same totals.
            for reason, n in Counter(reason for _, reason in outcome.rejected).items():
                metrics.count_rejected(reason.name.lower(), n)
        if not outcome.accepted and duplicates == len(request.items):
            raise AllDuplicates()
        return outcome

    def _lifetime(self, minutes: float | None) -> float:
        if minutes is None:
            return self._policy.default_lifetime_minutes * 60
        if not minutes > 0:
            raise InvalidRequest("lifetime", "Lifetime must be a positive number of minutes")
        return min(minutes, self._policy.max_lifetime_minutes) * 60

    def _ready_recipients(
        self,
        items: Sequence[SendItem],
        pricing: AccountPricing,
        suppressed: frozenset[str],
        outcome: SendOutcome,
    ) -> tuple[list[ReadyRecipient], int]:
        """The recipients that can be sent (number normalised, priced, text split), in order,
        and how many ids they need without SMPP aliases; the others go to `outcome.rejected`."""
        ready: list[ReadyRecipient] = []
        segmented = self._segmented
        digits_of = self._phones.digits
        price_of = pricing.price
        rejected = outcome.rejected
        id_count = 0
        for item in items:
            text = item.text
            seg = segmented.get(text)
            if seg is None:
                seg = self._split(text)
            phone = digits_of(item.phone)
            if phone is None:
                rejected.append((item.phone, Rejection.INVALID_PHONE))
                continue
            if suppressed and phone in suppressed:
                rejected.append((item.phone, Rejection.OPTED_OUT))
                continue
            price = price_of(phone)
            if price is None:
                rejected.append((item.phone, Rejection.NO_TARIFF))
                continue
            ready.append((item, phone, seg, price))
            id_count += 1 + len(seg.parts)
        return ready, id_count

    def _split(self, text: str) -> Segmented:
        try:
            seg = split_text(text)
        except EmptyText:
            raise InvalidRequest("text", "Message text is required") from None
        if len(seg.parts) > self._policy.max_parts:
            raise InvalidRequest(
                "text", f"Message text is longer than {self._policy.max_parts} parts"
            )
        if len(self._segmented) >= _SEGMENTED_TEXTS:
            self._segmented.clear()
        self._segmented[text] = seg
        return seg

    def _messages(
        self,
        account: AccountRecord,
        request: SendRequest,
        sender: str,
        ready: list[ReadyRecipient],
        id_count: int,
        now: float,
        lifetime: float,
    ) -> tuple[NewMessage, ...]:
        """One NewMessage per ready recipient. The ids of the whole request are taken in one
        `next_many` (one clock read, not one per message); each message gets the next run of
        them in the same layout as before: message id, its SMPP alias ids, then its part ids."""
        held_ids = request.held_ids
        if held_ids and len(ready) == 1:
            # The door answered these ids already (parts of a long message held in the store):
            # the message takes them; only its parts' ids are new.
            extra = len(held_ids) - 1
            ids = [*held_ids, *self._ids.next_many(id_count - 1)]
        else:
            extra = max(0, request.pdu_count - 1)
            ids = self._ids.next_many(id_count + extra * len(ready))
        account_id = account.id
        send_at = request.send_at
        if send_at is not None and send_at <= now:
            send_at = None  # a time gone by: at once
        expires_at = (now if send_at is None else send_at) + lifetime
        door = request.door
        integration_id = request.integration_id
        receipt_for = request.receipt_for
        callback = request.callback
        keys = DedupeKeys(account_id)
        messages: list[NewMessage] = []
        # NewPart and NewMessage are built by position, in their fields' order (checked by
        # tests/gateway/test_submit.py): keywords cost ~0.9 µs more per message.
        at = 0
        for item, phone, seg, price in ready:
            message_id = ids[at]
            concat_ref = message_id & 0xFFFF
            first_part = at + 1 + extra
            payloads = seg.parts
            total = len(payloads)
            if total == 1:
                parts: tuple[NewPart, ...] = (
                    NewPart(ids[first_part], 1, 1, concat_ref, payloads[0]),
                )
            else:
                parts = tuple(
                    NewPart(ids[first_part + i], i + 1, total, concat_ref, payload)
                    for i, payload in enumerate(payloads)
                )
            # ids[at : first_part] are the message's PDU ids: the message id, then its aliases.
            alias_ids = tuple(ids[at + 1 : first_part]) if extra else ()
            receipt_ids = (
                tuple(ids[at + i] for i in receipt_for if 0 <= i <= extra) if receipt_for else ()
            )
            at = first_part + total
            text = item.text
            messages.append(
                NewMessage(
                    message_id,
                    account_id,
                    sender,
                    phone,
                    text,
                    seg.data_coding,
                    price,
                    parts,
                    now,
                    expires_at,
                    door,
                    keys.key(phone, text),
                    integration_id,
                    alias_ids,
                    receipt_ids,
                    held_ids,
                    send_at,
                    callback,
                    item.client_ref,
                )
            )
        return tuple(messages)

    @staticmethod
    def _outcomes(
        ready: list[ReadyRecipient],
        messages: tuple[NewMessage, ...],
        outcomes: tuple[Outcome, ...],
        outcome: SendOutcome,
    ) -> int:
        """The store's answer into `outcome`; how many recipients were duplicates."""
        duplicates = 0
        accepted = outcome.accepted
        pdu_ids = outcome.pdu_ids
        for entry, message, got in zip(ready, messages, outcomes, strict=True):
            item = entry[0]
            if got is Outcome.ACCEPTED:
                message_id = message.id
                accepted.append((message_id, item.phone))
                alias_ids = message.alias_ids
                pdu_ids[message_id] = (message_id, *alias_ids) if alias_ids else (message_id,)
            else:
                duplicates += got is Outcome.DUPLICATE
                outcome.rejected.append((item.phone, _OUTCOME_REJECTION[got]))
        return duplicates


def rate_limit_of(account: AccountRecord) -> RateLimit | None:
    if account.rate_limit <= 0:
        return None
    return RateLimit(rate=account.rate_limit, burst=max(1.0, account.rate_limit))
