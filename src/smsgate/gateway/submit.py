"""submit(): the one path every door uses to hand over messages.

It normalises numbers, checks the sender name, encodes and splits the text, prices every part,
assigns ids, and then lets the store rate-limit, deduplicate, reserve money and persist in one
transaction. When `send` returns, every accepted message is durable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from smsgate.domain.dedupe import dedupe_key
from smsgate.domain.ids import IdGenerator
from smsgate.domain.phone import InvalidPhone, PhoneNormalizer
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
from smsgate.gateway.model import MAX_ITEMS, SendItem, SendOutcome, SendRequest
from smsgate.store.interface import Store
from smsgate.store.records import (
    AcceptRequest,
    AccountRecord,
    NewMessage,
    NewPart,
    Outcome,
    RateLimit,
)

_OUTCOME_REJECTION = {Outcome.DUPLICATE: Rejection.DUPLICATE, Outcome.NO_MONEY: Rejection.NO_MONEY}


@dataclass(frozen=True, slots=True)
class SubmitPolicy:
    default_lifetime_minutes: float = 24 * 60
    max_lifetime_minutes: float = 7 * 24 * 60
    dedupe_window: float = 120.0
    # A text longer than this many parts is refused: a runaway loop in a client must not bill
    # hundreds of parts per recipient.
    max_parts: int = 10


class _Tariffs:
    """An account's tariffs, precompiled and cached briefly: pricing runs for every recipient."""

    def __init__(self, store: Store, clock: Callable[[], float], ttl: float = 10.0) -> None:
        self._store = store
        self._clock = clock
        self._ttl = ttl
        self._cache: dict[int, tuple[float, AccountPricing]] = {}

    async def pricing(self, account_id: int) -> AccountPricing:
        now = self._clock()
        entry = self._cache.get(account_id)
        if entry is None or entry[0] <= now:
            rows = await self._store.tariffs(account_id)
            pricing = AccountPricing(
                [(t.prefix, t.price) for t in rows if t.account_id is None],
                [(t.prefix, t.price) for t in rows if t.account_id is not None],
            )
            entry = (now + self._ttl, pricing)
            self._cache[account_id] = entry
        return entry[1]


class Submitter:
    def __init__(
        self,
        store: Store,
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

    async def send(self, account: AccountRecord, request: SendRequest) -> SendOutcome:
        items = request.items
        if not items:
            raise InvalidRequest("phone", "No recipients given")
        if len(items) > MAX_ITEMS:
            raise InvalidRequest("phone", f"More than {MAX_ITEMS} recipients")
        sender = request.sender.strip()
        if not sender:
            raise InvalidRequest("sender", "Sender name is required")
        if sender not in await self._accounts.sender_set(account.id):
            raise SenderNotAllowed(sender)
        lifetime = self._lifetime(request.lifetime_minutes)

        now = self._clock()
        pricing = await self._tariffs.pricing(account.id)
        outcome = SendOutcome()
        staged: list[tuple[SendItem, NewMessage]] = []
        segmented: dict[str, Segmented] = {}
        for item in items:
            text = item.text
            if text not in segmented:
                try:
                    segmented[text] = split_text(text)
                except EmptyText:
                    raise InvalidRequest("text", "Message text is required") from None
                if len(segmented[text].parts) > self._policy.max_parts:
                    raise InvalidRequest(
                        "text", f"Message text is longer than {self._policy.max_parts} parts"
                    )
            try:
                phone = self._phones.normalize(item.phone)
            except InvalidPhone:
                outcome.rejected.append((item.phone, Rejection.INVALID_PHONE))
                continue
            price = pricing.price(phone)
            if price is None:
                outcome.rejected.append((item.phone, Rejection.NO_TARIFF))
                continue
            message = self._message(
                account, request, sender, phone, text, segmented[text], price, now, lifetime
            )
            staged.append((item, message))

        result = await self._store.accept(
            AcceptRequest(
                account_id=account.id,
                now=now,
                messages=tuple(m for _, m in staged),
                rate_limit=_rate_limit(account),
                dedupe_window=self._policy.dedupe_window,
            )
        )
        if result.retry_after is not None:
            raise RateLimited(result.retry_after)
        duplicates = 0
        for (item, message), got in zip(staged, result.outcomes, strict=True):
            if got is Outcome.ACCEPTED:
                outcome.accepted.append((message.id, item.phone))
                outcome.pdu_ids[message.id] = (message.id, *message.alias_ids)
            else:
                duplicates += got is Outcome.DUPLICATE
                outcome.rejected.append((item.phone, _OUTCOME_REJECTION[got]))
        if outcome.accepted:
            metrics.count_accepted(request.door, len(outcome.accepted))
        for _, reason in outcome.rejected:
            metrics.count_rejected(reason.name.lower())
        if not outcome.accepted and duplicates == len(items):
            raise AllDuplicates()
        return outcome

    def _lifetime(self, minutes: float | None) -> float:
        if minutes is None:
            return self._policy.default_lifetime_minutes * 60
        if not minutes > 0:
            raise InvalidRequest("lifetime", "Lifetime must be a positive number of minutes")
        return min(minutes, self._policy.max_lifetime_minutes) * 60

    def _message(
        self,
        account: AccountRecord,
        request: SendRequest,
        sender: str,
        phone: str,
        text: str,
        seg: Segmented,
        price: int,
        now: float,
        lifetime: float,
    ) -> NewMessage:
        extra = max(0, request.pdu_count - 1)
        ids = self._ids.next_many(1 + extra + len(seg.parts))
        message_id = ids[0]
        pdu_ids = tuple(ids[: 1 + extra])
        ids = [message_id, *ids[1 + extra :]]
        total = len(seg.parts)
        parts = tuple(
            NewPart(
                id=ids[i + 1],
                seq=i + 1,
                total=total,
                concat_ref=message_id & 0xFFFF,
                payload=payload,
            )
            for i, payload in enumerate(seg.parts)
        )
        return NewMessage(
            id=message_id,
            account_id=account.id,
            sender=sender,
            phone=phone,
            text=text,
            data_coding=seg.data_coding,
            price_per_part=price,
            parts=parts,
            created_at=now,
            expires_at=now + lifetime,
            door=request.door,
            dedupe_key=dedupe_key(account.id, phone, text),
            integration_id=request.integration_id,
            alias_ids=pdu_ids[1:],
            receipt_ids=tuple(pdu_ids[i] for i in request.receipt_for if 0 <= i < len(pdu_ids)),
        )


def _rate_limit(account: AccountRecord) -> RateLimit | None:
    if account.rate_limit <= 0:
        return None
    return RateLimit(rate=account.rate_limit, burst=max(1.0, account.rate_limit))
