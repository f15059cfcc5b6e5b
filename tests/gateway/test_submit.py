"""Submitter builds the store's records by position (keywords cost ~0.9 µs a message): their
fields must stay in the order submit.py passes them, or values would silently change places;
and every field of what it hands the store carries its own value."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import fields

import pytest

from smsgate.domain.dedupe import dedupe_key
from smsgate.domain.ids import IdGenerator
from smsgate.gateway import submit
from smsgate.gateway.accounts import AccountCache
from smsgate.gateway.errors import InvalidRequest, RateLimited, SenderNotAllowed
from smsgate.gateway.send_request import SendItem, SendRequest
from smsgate.gateway.submit import Submitter
from smsgate.store.memory import MemoryStore
from smsgate.store.records import (
    AcceptRequest,
    AcceptResult,
    AccountRecord,
    NewMessage,
    NewPart,
    Tariff,
)


def test_new_part_fields_are_in_the_order_submit_passes_them() -> None:
    assert [f.name for f in fields(NewPart)] == ["id", "seq", "total", "concat_ref", "payload"]


def test_new_message_fields_are_in_the_order_submit_passes_them() -> None:
    assert [f.name for f in fields(NewMessage)] == [
        "id",
        "account_id",
        "sender",
        "phone",
        "text",
        "data_coding",
        "price_per_part",
        "parts",
        "created_at",
        "expires_at",
        "door",
        "dedupe_key",
        "integration_id",
        "alias_ids",
        "receipt_ids",
        "held_ids",
        "send_at",
        "callback",
        "client_ref",
    ]


class _Store(MemoryStore):
    """The in-memory store, keeping every request it was handed in `accepted`; a request whose
    text is "throttled" is refused by the rate limit and one whose text is "broken" fails in
    the store, as a store under load or in trouble would answer."""

    def __init__(self) -> None:
        super().__init__()
        self.accepted: list[AcceptRequest] = []
        self.calls = 0

    async def accept(self, request: AcceptRequest) -> AcceptResult:
        self.accepted.append(request)
        return await super().accept(request)

    async def accept_many(
        self, requests: Sequence[AcceptRequest]
    ) -> list[AcceptResult | BaseException]:
        self.calls += 1
        results: list[AcceptResult | BaseException] = []
        for request in requests:
            text = request.messages[0].text if request.messages else ""
            if text == "throttled":
                results.append(AcceptResult(retry_after=2.0))
            elif text == "broken":
                results.append(RuntimeError("disk on fire"))
            else:
                results.append(await self.accept(request))
        return results


async def _shop(store: _Store | None = None) -> _Store:
    """A store holding ACCOUNT, funded, with its sender name and prices."""
    store = _Store() if store is None else store
    account = await store.create_account("shop", rate_limit=0.0)
    assert account == ACCOUNT
    await store.top_up(account.id, 10**9)
    await store.add_originator(account.id, "Shop")
    await store.set_tariff(Tariff(None, "", 900))
    await store.set_tariff(Tariff(account.id, "38067", 700))
    return store


ACCOUNT = AccountRecord(1, "shop", "UAH", 0.0, 4, True)
NOW = 1_800_000_000.0


def _submitter(store: _Store) -> Submitter:
    clock = lambda: NOW  # noqa: E731
    accounts = AccountCache(store, clock=clock)
    return Submitter(store, accounts, IdGenerator(9, clock), clock=clock)


async def test_every_field_of_the_records_gets_its_own_value() -> None:
    store = await _shop()
    long_text = "x" * 200  # two GSM-7 parts
    request = SendRequest(
        sender=" Shop ",
        items=[SendItem("+380 50 123 45 67", "hi"), SendItem("0671234567", long_text)],
        door="xml",
        lifetime_minutes=30,
        integration_id="crm-1",
    )
    outcome = await _submitter(store).send(ACCOUNT, request)
    (accept,) = store.accepted
    first, second = accept.messages
    assert (first.account_id, first.sender, first.phone, first.text) == (
        ACCOUNT.id,
        "Shop",
        "380501234567",
        "hi",
    )
    assert (second.phone, second.text, second.price_per_part) == ("380671234567", long_text, 700)
    assert first.price_per_part == 900 and first.data_coding == 0
    assert (first.created_at, first.expires_at) == (NOW, NOW + 30 * 60)
    assert (first.door, first.integration_id) == ("xml", "crm-1")
    assert first.dedupe_key == dedupe_key(ACCOUNT.id, "380501234567", "hi")
    assert second.dedupe_key == dedupe_key(ACCOUNT.id, "380671234567", long_text)
    assert (first.alias_ids, first.receipt_ids) == ((), ())
    # ids: each message id, then its parts', in one increasing run
    ids = [first.id, *(p.id for p in first.parts), second.id, *(p.id for p in second.parts)]
    assert ids == list(range(ids[0], ids[0] + 5))
    assert [(p.seq, p.total, p.concat_ref) for p in second.parts] == [
        (1, 2, second.id & 0xFFFF),
        (2, 2, second.id & 0xFFFF),
    ]
    assert b"".join(p.payload for p in second.parts) == b"x" * 200
    assert outcome.accepted == [(first.id, "+380 50 123 45 67"), (second.id, "0671234567")]
    assert outcome.pdu_ids == {first.id: (first.id,), second.id: (second.id,)}


async def test_smpp_pdus_get_alias_ids_before_the_part_ids_and_receipts_by_index() -> None:
    store = await _shop()
    request = SendRequest(
        sender="Shop",
        items=[SendItem("380501234567", "y" * 300)],  # two parts
        door="smpp",
        pdu_count=2,
        receipt_for=(1, 5),  # 5 is out of range: ignored
    )
    outcome = await _submitter(store).send(ACCOUNT, request)
    (message,) = store.accepted[0].messages
    alias = message.id + 1
    assert message.alias_ids == (alias,) and message.receipt_ids == (alias,)
    assert [p.id for p in message.parts] == [message.id + 2, message.id + 3]
    assert outcome.pdu_ids == {message.id: (message.id, alias)}


async def test_split_texts_are_shared_across_requests_and_refusals_are_not_kept() -> None:
    store = await _shop()
    submitter = _submitter(store)
    for phone in ("380501234567", "380501234568"):
        await submitter.send(ACCOUNT, SendRequest("Shop", [SendItem(phone, "same text")], "json"))
    first, second = (r.messages[0] for r in store.accepted)
    assert first.parts[0].payload == second.parts[0].payload == b"same text"
    too_long = SendRequest("Shop", [SendItem("380501234567", "z" * (153 * 10 + 1))], "json")
    for _ in range(2):  # 11 parts: refused every time, never served from the cache
        with pytest.raises(InvalidRequest):
            await submitter.send(ACCOUNT, too_long)


async def test_the_split_text_cache_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(submit, "_SEGMENTED_TEXTS", 3)
    store = await _shop()
    submitter = _submitter(store)
    texts = [f"text {i}" for i in range(7)]
    for phone in ("380501234567", "380501234568"):  # each text twice, to two numbers
        for text in texts:
            await submitter.send(ACCOUNT, SendRequest("Shop", [SendItem(phone, text)], "json"))
            assert len(submitter._segmented) <= 3
    assert [r.messages[0].text for r in store.accepted] == texts + texts
    assert [r.messages[0].parts[0].payload for r in store.accepted] == [
        t.encode() for t in texts + texts
    ]


async def test_requests_that_find_the_tariffs_stale_share_one_read() -> None:
    reads = 0
    release = asyncio.Event()

    class _SlowTariffs(_Store):
        async def tariffs(self, account_id: int) -> list[Tariff]:
            nonlocal reads
            reads += 1
            await release.wait()
            return await super().tariffs(account_id)

    now = [NOW]
    tariffs = submit._Tariffs(await _shop(_SlowTariffs()), lambda: now[0], ttl=10.0)
    waiting = [asyncio.ensure_future(tariffs.pricing(ACCOUNT.id)) for _ in range(64)]
    waiting[0].cancel()  # one caller gone must not cancel the read the others wait for
    await asyncio.sleep(0)
    release.set()
    priced = await asyncio.wait_for(asyncio.gather(*waiting[1:]), 2)
    assert reads == 1 and all(p is priced[0] for p in priced)
    assert await tariffs.pricing(ACCOUNT.id) is priced[0]  # cached
    now[0] += 11  # stale again: read anew
    assert await asyncio.wait_for(tariffs.pricing(ACCOUNT.id), 2) is not priced[0]
    assert reads == 2


async def test_send_many_answers_each_request_as_send_would_with_one_store_call() -> None:
    def sms(text: str, sender: str = "Shop", phone: str = "380501234567") -> SendRequest:
        return SendRequest(sender=sender, items=[SendItem(phone, text)], door="smpp")

    requests = [
        sms("one"),
        sms("bad sender", sender="Nobody"),
        sms(""),  # no text
        sms("throttled"),
        sms("bad number", phone="12"),
        sms("broken"),
        sms("two"),
    ]
    store = await _shop()
    answers = await _submitter(store).send_many(ACCOUNT, requests)
    assert store.calls == 1
    one, bad_sender, no_text, throttled, bad_number, broken, two = answers
    assert isinstance(bad_sender, SenderNotAllowed)
    assert isinstance(no_text, InvalidRequest) and no_text.field == "text"
    assert isinstance(throttled, RateLimited) and throttled.retry_after == 2.0
    assert isinstance(broken, RuntimeError)
    assert not isinstance(bad_number, Exception) and not bad_number.accepted
    assert [s.text for r in store.accepted for s in r.messages] == ["one", "two"]
    stored = [r for r in store.accepted if r.messages]
    for answer, accept in zip((one, two), stored, strict=True):
        assert not isinstance(answer, Exception)
        assert answer.accepted == [(accept.messages[0].id, "380501234567")]
    # The same request through send gets the same refusals.
    alone = _submitter(await _shop())
    with pytest.raises(SenderNotAllowed):
        await alone.send(ACCOUNT, requests[1])
    with pytest.raises(InvalidRequest):
        await alone.send(ACCOUNT, requests[2])
