"""The inbound intake: an MO is routed by its number (and first word on a shared number),
kept when no account takes it, read for STOP/START, and answered to the operator only once
stored; a long one's parts are each answered once kept in the store, joined, and one missing
a part is stored after the timeout as what arrived; a restart between parts loses none."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from smsgate.gateway import inbound_intake
from smsgate.gateway.inbound_intake import InboundIntake
from smsgate.smpp.constants import CommandStatus
from smsgate.smpp.inbound_part import InboundPart
from smsgate.smpp.udh import Concat
from smsgate.store.memory import MemoryStore
from smsgate.store.records import KeptInboundPart, NewInbound, NumberRoute
from smsgate.store.sql_store import SqlStore

T = 5.0
PHONE = "380501112233"


class _Store(MemoryStore):
    failing = False
    failing_keep = False

    async def store_inbound(
        self, messages: Sequence[NewInbound], release: Sequence[int] = ()
    ) -> list[int]:
        if self.failing:
            raise OSError("disk full")
        return await super().store_inbound(messages, release)

    async def keep_inbound_part(self, part: KeptInboundPart) -> int | None:
        if self.failing_keep:
            raise OSError("disk full")
        return await super().keep_inbound_part(part)


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


async def test_a_number_added_while_the_routes_are_cached_routes_its_first_sms(
    store: _Store, intake: InboundIntake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbound_intake, "MISS_RELOAD", 60.0)  # so the second miss is too soon
    await _answer(intake.take("op", _part("hello")))  # the routing table is read and cached
    await store.add_number(NumberRoute("7200", await _id(store, "shop")))
    await _answer(intake.take("op", _part("first on the new number", to="7200")))
    await store.add_number(NumberRoute("7300", await _id(store, "shop")))
    await _answer(intake.take("op", _part("too soon", to="7300")))
    assert [(m.account_id, m.text) for m in store.state.inbound.values()] == [
        (await _id(store, "shop"), "hello"),
        (await _id(store, "shop"), "first on the new number"),
        (None, "too soon"),
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


async def test_each_part_is_answered_once_kept_and_the_message_stored_with_the_last(
    store: _Store, intake: InboundIntake
) -> None:
    first = intake.take("op", _part("Hello, ", concat=Concat(9, 2, 1)))
    assert await _answer(first) == CommandStatus.ESME_ROK
    assert store.state.inbound == {} and len(store.state.inbound_parts) == 1
    copy = intake.take("op", _part("Hello, ", concat=Concat(9, 2, 1)))  # sent again
    assert await _answer(copy) == CommandStatus.ESME_ROK
    last = intake.take("op", _part("world", concat=Concat(9, 2, 2)))
    assert await _answer(last) == CommandStatus.ESME_ROK
    await _stored(store, 1)
    [message] = store.state.inbound.values()
    assert (message.text, message.parts, message.total) == ("Hello, world", 2, 2)
    assert store.state.inbound_parts == {}  # released with the message, in its transaction


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


async def test_a_part_that_cannot_be_kept_is_refused_for_the_operator_to_resend(
    store: _Store, intake: InboundIntake
) -> None:
    store.failing_keep = True
    refused = intake.take("op", _part("Hello, ", concat=Concat(5, 2, 1)))
    assert await _answer(refused) == CommandStatus.ESME_RSYSERR
    store.failing_keep = False
    for part in (_part("Hello, ", concat=Concat(5, 2, 1)), _part("you", concat=Concat(5, 2, 2))):
        assert await _answer(intake.take("op", part)) == CommandStatus.ESME_ROK
    assert [t for _, t in await _stored(store, 1)] == ["Hello, you"]


async def test_a_joined_message_the_store_refuses_is_stored_when_it_can(
    store: _Store, intake: InboundIntake
) -> None:
    store.failing = True
    for part in (_part("kept ", concat=Concat(6, 2, 1)), _part("twice", concat=Concat(6, 2, 2))):
        assert await _answer(intake.take("op", part)) == CommandStatus.ESME_ROK  # kept
    await asyncio.sleep(0)
    store.failing = False
    assert [t for _, t in await _stored(store, 1)] == ["kept twice"]
    assert store.state.inbound_parts == {}


async def test_a_restart_between_parts_completes_the_message(store: _Store) -> None:
    before = InboundIntake(store, timeout=60, node_id=3)
    first = before.take("op", _part("Hello, ", concat=Concat(4, 2, 1)))
    assert await _answer(first) == CommandStatus.ESME_ROK
    del before  # killed: nothing more of it runs, its memory is gone
    other_node = InboundIntake(store, timeout=60, node_id=4)
    await other_node.load()  # another node's kept parts are not its own
    after = InboundIntake(store, timeout=60, node_id=3)
    await after.load()
    last = after.take("op", _part("again", concat=Concat(4, 2, 2)))
    assert await _answer(last) == CommandStatus.ESME_ROK
    await asyncio.wait_for(after.stop(), T)
    await asyncio.wait_for(other_node.stop(), T)
    [message] = store.state.inbound.values()
    assert (message.text, message.complete, message.connector) == ("Hello, again", True, "op")
    assert store.state.inbound_parts == {}


async def test_a_restart_stores_a_message_whose_parts_were_all_kept(store: _Store) -> None:
    before = InboundIntake(store, timeout=60, node_id=3)
    store.failing = True  # killed before the joined message could be stored
    for part in (_part("all ", concat=Concat(7, 2, 1)), _part("kept", concat=Concat(7, 2, 2))):
        assert await _answer(before.take("op", part)) == CommandStatus.ESME_ROK
    await asyncio.wait_for(before.stop(), T)
    store.failing = False
    after = InboundIntake(store, timeout=60, node_id=3)
    await after.load()
    await asyncio.wait_for(after.stop(), T)
    assert [t for _, t in await _stored(store, 1)] == ["all kept"]


async def test_a_restart_keeps_the_timeout_running_from_the_first_part(store: _Store) -> None:
    before = InboundIntake(store, timeout=0.3, node_id=1)
    assert await _answer(before.take("op", _part("lonely", concat=Concat(8, 2, 1)))) == 0
    await asyncio.wait_for(before.stop(), T)  # stopping stores nothing: the part stays kept
    assert store.state.inbound == {} and len(store.state.inbound_parts) == 1
    after = InboundIntake(store, timeout=0.3, node_id=1)
    await after.load()
    runner = asyncio.ensure_future(after.run())
    try:
        [(_, text)] = await _stored(store, 1)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    assert text == "lonely" and store.state.inbound_parts == {}


async def test_a_restart_on_sqlite_between_parts_completes_the_message(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/mo.db"
    first_life = SqlStore(url)
    await first_life.open()
    shop = await first_life.create_account("shop")
    await first_life.add_number(NumberRoute("7000", shop.id))
    before = InboundIntake(first_life, timeout=60, node_id=1)
    part = _part("Kept on disk, ", concat=Concat(11, 2, 1))
    assert await _answer(before.take("op", part)) == CommandStatus.ESME_ROK
    await first_life.close()  # the process ends: only the database is left

    second_life = SqlStore(url)
    await second_life.open()
    try:
        after = InboundIntake(second_life, timeout=60, node_id=1)
        await after.load()
        last = _part("joined after", concat=Concat(11, 2, 2))
        assert await _answer(after.take("op", last)) == CommandStatus.ESME_ROK
        [message] = await second_life.inbound_after(shop.id, 0, 10)
        assert (message.text, message.complete) == ("Kept on disk, joined after", True)
        assert await second_life.kept_inbound_parts(1) == []
    finally:
        await second_life.close()
