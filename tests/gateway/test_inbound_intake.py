"""The inbound intake: an MO is routed by its number (and first word on a shared number),
kept when no account takes it, read for STOP/START, and answered to the operator only once
stored; a long one's parts are joined, and one missing a part is stored after the timeout as
what arrived."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from smsgate.gateway.inbound_intake import InboundIntake
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.inbound_part import InboundPart
from smsgate.smpp.udh import Concat
from smsgate.store.memory import MemoryStore
from smsgate.store.records import NewInbound, NumberRoute

T = 5.0
PHONE = "380501112233"


class _Store(MemoryStore):
    failing = False

    async def store_inbound(self, messages: Sequence[NewInbound]) -> list[int]:
        if self.failing:
            raise OSError("disk full")
        return await super().store_inbound(messages)


@pytest.fixture
async def store() -> _Store:
    s = _Store()
    shop = await s.create_account("shop")
    cafe = await s.create_account("cafe")
    await s.add_number(NumberRoute("7000", shop.id))
    await s.add_number(NumberRoute("7000", cafe.id, "coffee"))
    await s.add_number(NumberRoute("7100", cafe.id, "tea"))
    return s


@pytest.fixture
async def intake(store: _Store) -> AsyncIterator[InboundIntake]:
    it = InboundIntake(store, timeout=0.3)
    runner = asyncio.ensure_future(it.run())
    try:
        yield it
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await it.stop()


def _part(text: str, to: str = "7000", concat: Concat | None = None) -> InboundPart:
    return InboundPart(PHONE, 1, to, 0, text.encode(), concat)


async def _answer(answer: int | asyncio.Future[int]) -> int:
    return answer if isinstance(answer, int) else await asyncio.wait_for(answer, T)


async def _stored(store: _Store, count: int) -> list[tuple[int | None, str]]:
    async with asyncio.timeout(T):
        while len(store.state.inbound) < count:
            await asyncio.sleep(0.01)
    return [(m.account_id, m.text) for m in store.state.inbound.values()]


async def _id(store: _Store, login: str) -> int:
    creds = await store.credentials(login)
    assert creds is not None
    return creds.account.id


async def test_a_number_routes_to_its_account_and_a_keyword_to_its_own(
    store: _Store, intake: InboundIntake
) -> None:
    assert await _answer(intake.take("op", _part("hello"))) == CommandStatus.ESME_ROK
    assert await _answer(intake.take("op", _part("Coffee, please"))) == CommandStatus.ESME_ROK
    assert await _stored(store, 2) == [
        (await _id(store, "shop"), "hello"),
        (await _id(store, "cafe"), "Coffee, please"),
    ]
    [_, coffee] = store.state.inbound.values()
    assert (coffee.keyword, coffee.connector, coffee.source) == ("coffee", "op", PHONE)


async def test_an_unroutable_message_is_kept_with_the_reason(
    store: _Store, intake: InboundIntake
) -> None:
    await _answer(intake.take("op", _part("hi", to="7999")))
    await _answer(intake.take("op", _part("no keyword", to="7100")))
    lost = await store.unroutable(0, 10)
    assert [(m.text, m.reason) for m in lost] == [
        ("hi", "number 7999 belongs to no account"),
        ("no keyword", "no keyword of number 7100 starts the message"),
    ]


async def test_stop_and_start_change_the_senders_place_on_the_list(
    store: _Store, intake: InboundIntake
) -> None:
    shop, cafe = await _id(store, "shop"), await _id(store, "cafe")
    await _answer(intake.take("op", _part("STOP")))
    await _answer(intake.take("op", _part("stop coffee")))  # leaves the keyword's account
    assert [s.phone for s in await store.suppressions(shop)] == [PHONE]
    assert [s.phone for s in await store.suppressions(cafe)] == [PHONE]
    await _answer(intake.take("op", _part("Start")))
    assert await store.suppressions(shop) == []
    await _answer(intake.take("op", _part("please don't stop")))  # conversation, not a command
    assert await store.suppressions(shop) == []


async def test_parts_are_answered_at_once_and_the_last_once_the_message_is_stored(
    store: _Store, intake: InboundIntake
) -> None:
    first = intake.take("op", _part("Hello, ", concat=Concat(9, 2, 1)))
    assert first == CommandStatus.ESME_ROK and store.state.inbound == {}
    last = intake.take("op", _part("world", concat=Concat(9, 2, 2)))
    assert await _answer(last) == CommandStatus.ESME_ROK
    [message] = store.state.inbound.values()
    assert (message.text, message.parts, message.total) == ("Hello, world", 2, 2)


async def test_a_message_missing_a_part_is_stored_incomplete_after_the_timeout(
    store: _Store, intake: InboundIntake
) -> None:
    intake.take("op", _part("one ", concat=Concat(3, 3, 1)))
    intake.take("op", _part("three", concat=Concat(3, 3, 3)))
    [(_, text)] = await _stored(store, 1)
    [message] = store.state.inbound.values()
    assert text == "one three" and not message.complete
    assert (message.parts, message.total, message.connector) == (2, 3, "op")


async def test_a_message_that_cannot_be_stored_is_refused_for_the_operator_to_resend(
    store: _Store, intake: InboundIntake
) -> None:
    store.failing = True
    assert await _answer(intake.take("op", _part("hello"))) == CommandStatus.ESME_RSYSERR
    store.failing = False
    assert await _answer(intake.take("op", _part("hello"))) == CommandStatus.ESME_ROK
    assert [t for _, t in await _stored(store, 1)] == ["hello"]


async def test_stopping_stores_what_waits_for_parts(store: _Store) -> None:
    intake = InboundIntake(store, timeout=60)
    intake.take("op", _part("half", concat=Concat(4, 2, 1)))
    await asyncio.wait_for(intake.stop(), T)
    [message] = store.state.inbound.values()
    assert (message.text, message.complete) == ("half", False)
