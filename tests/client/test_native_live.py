"""The native SDK (`AsyncNativeClient`, `NativeClient`) against a real smsgate node: every call
as the server answers it, its problems as typed errors naming the field, and a send whose first
answer is lost returning the first answer on retry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from smsgate.client import (
    AsyncNativeClient,
    AuthenticationError,
    ConflictError,
    DuplicateError,
    Message,
    NativeClient,
    NotFoundError,
    Recipient,
    RecipientsRejectedError,
    Rejection,
    Status,
    ValidationError,
)

from .conftest import Live

T = 15.0


def native(live: Live, **options: object) -> AsyncNativeClient:
    return AsyncNativeClient(live.url, live.token, timeout=5, **options)  # type: ignore[arg-type]


async def final(api: AsyncNativeClient, message_id: str) -> Message:
    async with asyncio.timeout(T):
        while not (message := await api.message(message_id)).is_final:
            await asyncio.sleep(0.05)
    return message


async def test_a_send_with_references_is_followed_to_delivery(live: Live) -> None:
    async with native(live) as api:
        sent = await api.send(
            [Recipient("380501230000", client_ref="order-1"), Recipient("12", client_ref="bad")],
            "Hello from the native SDK",
            live.sender,
            valid_for=timedelta(hours=1),
        )
        [accepted] = sent.messages
        assert (accepted.to, accepted.client_ref, accepted.status) == (
            "380501230000",
            "order-1",
            Status.ENROUTE,
        )
        assert (accepted.encoding, accepted.parts) == ("GSM-7", 1)
        assert accepted.price > 0 and sent.total_price == accepted.price
        assert sent.send_at is None and sent.currency
        assert [(r.to, r.client_ref, r.code) for r in sent.rejected] == [
            ("12", "bad", "invalid_phone")
        ]
        message = await final(api, accepted.id)
    assert message.status is Status.DELIVRD
    assert message.price == accepted.price and message.sender == live.sender
    [part] = message.parts
    assert part.status is Status.DELIVRD and part.operator_id


async def test_a_scheduled_send_is_cancelled_and_its_money_comes_back(live: Live) -> None:
    async with native(live) as api:
        before = await api.balance()
        at = datetime.now(UTC) + timedelta(hours=1)
        sent = await api.send("380501234001", "Later", live.sender, send_at=at)
        assert sent.send_at is not None and abs(sent.send_at - at) < timedelta(seconds=1)
        assert sent.balance == before.balance - sent.total_price
        cancelled = await api.cancel(sent.ids[0])
        assert cancelled.is_final and cancelled.id == sent.ids[0]
        after = await api.balance()
        with pytest.raises(ConflictError) as again:
            await api.cancel(sent.ids[0])
    assert after.balance == before.balance
    assert again.value.status_code == 409 and again.value.field == "id"


async def test_a_quote_prices_without_sending(live: Live) -> None:
    async with native(live) as api:
        seen = [m.id async for m in api.search(page_size=100)]
        quote = await api.quote(["380501234002", "380501234003", "x"], "Привіт ✓", live.sender)
        assert [m.id async for m in api.search(page_size=100)] == seen
    assert [line.to for line in quote.recipients] == ["380501234002", "380501234003"]
    line = quote.recipients[0]
    assert line.encoding == "UCS-2" and "✓" in line.ucs2_characters
    assert line.price == line.price_per_part * line.parts
    assert quote.total_price == sum((q.price for q in quote.recipients), Decimal(0))
    assert quote.covered and quote.balance > quote.total_price
    assert [r.code for r in quote.rejected] == ["invalid_phone"]


async def test_search_follows_cursors_newest_first_with_filters(live: Live) -> None:
    phone = "380501234010"
    async with native(live) as api:
        ids = []
        for n in range(5):
            if n == 2:
                # A cut between the second and third send, clear of the clock's resolution.
                await asyncio.sleep(0.02)
                cut = datetime.now(UTC)
                await asyncio.sleep(0.02)
            ids.append((await api.send(phone, f"Number {n}", live.sender)).ids[0])
        await api.send("380501234011", "Someone else", live.sender)
        undelivered = (await api.send("380501230001", "Undelivered", live.sender)).ids[0]
        await final(api, undelivered)
        found = [m async for m in api.search(phone=phone, page_size=2)]
        first = await api.search_page(phone=phone, limit=2)
        second = await api.search_page(phone=phone, limit=2, cursor=first.next_cursor)
        since = [m.id async for m in api.search(phone=phone, since=cut)]
        by_status = [m.id async for m in api.search(status="UNDELIV", sender=live.sender)]
        nobody = [m async for m in api.search(sender="Nobody")]
    assert [m.id for m in found] == ids[::-1]
    assert {m.to for m in found} == {phone}
    assert [m.id for m in first.messages + second.messages] == ids[::-1][:4]
    assert second.next_cursor is not None
    assert since == ids[::-1][:3]
    assert by_status == [undelivered] and nobody == []


async def test_balance_senders_and_events_of_the_account(live: Live) -> None:
    async with native(live) as api:
        balance = await api.balance()
        senders = await api.senders()
        sent = await api.send("380501230000", "Evented", live.sender)
        await final(api, sent.ids[0])
        events = [e async for e in api.events(page_size=2)]
        later = [e async for e in api.events(after=events[0].seq)]
    assert balance.balance > 0 and balance.currency and balance.reserved >= 0
    assert live.sender in senders
    mine = [e for e in events if e.message_id == sent.ids[0]]
    assert [e.type for e in mine] == ["accepted", "submitted", "receipt"]
    assert mine[-1].data == {"stat": "DELIVRD", "err": 0}
    assert [e.seq for e in events] == sorted({e.seq for e in events})
    assert later == events[1:]


async def test_an_inbound_reply_is_listed(live: Live) -> None:
    from smsgate.store.records import NumberRoute

    demo = await live.store.credentials("demo")
    await live.store.add_number(NumberRoute("7000", demo.account.id))
    await live.store.add_originator(demo.account.id, "7000")
    async with native(live) as api:
        await api.send("380501230099", "Ping", "7000")  # the simulator's replying number
        async with asyncio.timeout(T):
            while not (found := [m async for m in api.inbound()]):
                await asyncio.sleep(0.05)
        page = await api.inbound_page(after=found[-1].id)
    [reply] = found
    assert (reply.sender, reply.to, reply.complete) == ("380501230099", "7000", True)
    assert "Ping" in reply.text and reply.received_at.tzinfo is not None
    assert page.messages == [] and page.next_after == reply.id


async def test_problems_are_typed_errors_naming_the_field(live: Live) -> None:
    async with native(live, retries=0) as api:
        with pytest.raises(ValidationError) as sender:
            await api.send("380501234020", "Hi", "NotMine")
        with pytest.raises(ValidationError) as invalid:
            await api.send("380501234020", "Hi", live.sender, valid_for=5)
        with pytest.raises(NotFoundError) as missing:
            await api.message("999999999")
        with pytest.raises(RecipientsRejectedError) as nobody:
            await api.send(["x", "y"], "Hi", live.sender)
        await api.send("380501234021", "Twice", live.sender)
        with pytest.raises(DuplicateError) as duplicate:
            await api.send("380501234021", "Twice", live.sender)
        await api.send("380501234022", "One", live.sender, idempotency_key="k-1")
        with pytest.raises(ValidationError) as reused:
            await api.send("380501234022", "Other", live.sender, idempotency_key="k-1")
    async with AsyncNativeClient(live.url, "wrong", timeout=5, retries=0) as stranger:
        with pytest.raises(AuthenticationError) as auth:
            await stranger.balance()
    assert (sender.value.status_code, sender.value.field) == (422, "sender")
    assert invalid.value.field == "valid_for" and "valid_for" in invalid.value.fields
    assert (missing.value.status_code, missing.value.field) == (404, "id")
    assert [(r.to, r.code) for r in nobody.value.rejected if isinstance(r, Rejection)] == [
        ("x", "invalid_phone"),
        ("y", "invalid_phone"),
    ]
    assert duplicate.value.status_code == 409
    assert reused.value.field == "Idempotency-Key"
    assert (auth.value.status_code, auth.value.field) == (401, "Authorization")


class _LosesFirstSendAnswer(httpx.AsyncBaseTransport):
    """Delivers the first POST /api/v1/messages but loses its answer, as a dropped connection."""

    def __init__(self) -> None:
        self._real = httpx.AsyncHTTPTransport()
        self.keys: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._real.handle_async_request(request)
        if request.method == "POST" and request.url.path == "/api/v1/messages":
            self.keys.append(request.headers.get("Idempotency-Key"))
            if len(self.keys) == 1:
                await response.aread()
                raise httpx.ReadError("connection reset before the answer", request=request)
        return response

    async def aclose(self) -> None:
        await self._real.aclose()


async def test_a_retry_after_a_lost_answer_returns_the_first_answer(live: Live) -> None:
    network = _LosesFirstSendAnswer()
    async with native(live, transport=network, backoff=0.01) as api:
        sent = await api.send(["380501234030", "380501234031"], "Lost answer", live.sender)
        listed = [m.id async for m in api.search(phone="380501234030")]
    assert len(network.keys) == 2 and network.keys[0] == network.keys[1] is not None
    assert len(sent.ids) == 2 and not sent.rejected
    assert listed == sent.ids[:1]  # sent once, and the ids are those the server gave


async def test_the_blocking_client_against_the_same_node(live: Live) -> None:
    def talk() -> tuple[list[str], Message, list[str], str, set[str | None]]:
        with NativeClient(live.url, live.token, timeout=5) as api:
            sent = api.send("380501234040", "Blocking", live.sender)
            quote = api.quote("380501234040", "Blocking", live.sender)
            found = [m.id for m in api.search(phone="380501234040")]
            events = {e.message_id for e in api.events(page_size=1)}
            return sent.ids, api.message(sent.ids[0]), found, quote.currency, events

    ids, message, found, currency, events = await asyncio.wait_for(asyncio.to_thread(talk), T)
    assert found == ids and message.id == ids[0] and message.to == "380501234040"
    assert currency and ids[0] in events
