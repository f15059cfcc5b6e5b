"""Builders of accept requests for the store tests: ids from one counter, sane defaults."""

from __future__ import annotations

import itertools

from smsgate.store.records import AcceptRequest, MessageCallback, NewMessage, NewPart, RateLimit

NOW = 1_800_000_000.0
PRICE = 5_000

_ids = itertools.count(1_000_000)


def next_id() -> int:
    return next(_ids)


def new_message(
    account_id: int,
    *,
    text: str = "hello",
    phone: str = "380501234567",
    parts: int = 1,
    price: int = PRICE,
    now: float = NOW,
    lifetime: float = 3600.0,
    door: str = "json",
    alias_ids: tuple[int, ...] = (),
    receipt_ids: tuple[int, ...] = (),
    message_id: int | None = None,
    callback: MessageCallback | None = None,
    client_ref: str | None = None,
) -> NewMessage:
    mid = next_id() if message_id is None else message_id
    ref = mid % 65536
    return NewMessage(
        id=mid,
        account_id=account_id,
        sender="Shop",
        phone=phone,
        text=text,
        data_coding=0,
        price_per_part=price,
        parts=tuple(
            NewPart(next_id(), seq, parts, ref, f"{text}/{seq}".encode())
            for seq in range(1, parts + 1)
        ),
        created_at=now,
        expires_at=now + lifetime,
        door=door,
        dedupe_key=f"{account_id}:{phone}:{text}".encode(),
        alias_ids=alias_ids,
        receipt_ids=receipt_ids,
        callback=callback,
        client_ref=client_ref,
    )


def request(
    account_id: int,
    *messages: NewMessage,
    now: float = NOW,
    rate_limit: RateLimit | None = None,
    window: float = 120.0,
) -> AcceptRequest:
    return AcceptRequest(account_id, now, tuple(messages), rate_limit, window)
