"""The retention sweeper with an injected clock: texts erased after N days, rows deleted after
M days, sent messages and inbound SMS, by one node at a time (the holder of the `retention`
lease), money untouched."""

from __future__ import annotations

import asyncio
import logging

import pytest

from smsgate.domain.status import Status
from smsgate.gateway.retention import DAY, RetentionPolicy, RetentionSweeper
from smsgate.store.memory import MemoryStore
from smsgate.store.records import NewInbound

from .builders import NOW, PRICE, new_message, request


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def _finished(store: MemoryStore, account: int, text: str, at: float) -> int:
    message = new_message(account, text=text, now=at)
    result = await asyncio.wait_for(store.accept(request(account, message, now=at)), 10)
    assert result.outcomes[0].value == "accepted"
    assert await store.cancel(account, message.id, at + 1)
    return message.id


async def test_texts_go_after_n_days_rows_after_m_and_only_one_node_sweeps() -> None:
    store = MemoryStore()
    account = (await store.create_account("shop")).id
    await store.top_up(account, 100 * PRICE)
    first = await _finished(store, account, "first", NOW)
    second = await _finished(store, account, "second", NOW + 3 * DAY)
    money = await store.balance(account)

    clock = Clock(NOW + 1 * DAY)
    policy = RetentionPolicy(erase_text_after=2 * DAY, delete_after=5 * DAY, every=60)
    sweeper = RetentionSweeper(store, "node-a", policy, clock)
    other = RetentionSweeper(store.sibling(1), "node-b", policy, clock)

    assert await sweeper.sweep() == (0, 0)  # a day old: nothing due
    clock.now = NOW + 2.5 * DAY
    assert await sweeper.sweep() == (1, 0)
    assert store.state.messages[first].text == ""
    assert store.state.messages[second].text == "second"
    assert await other.sweep() == (0, 0)  # node-a holds the lease
    clock.now = NOW + 6 * DAY
    assert await sweeper.sweep() == (1, 1)  # second's text erased, first deleted
    assert await store.statuses(account, [first, second]) == {second: Status.REJECTD}
    logged = await store.events(account, 0, 100)  # the account's log kept second's events
    assert logged and {e.message_id for e in logged} == {second}
    assert await store.balance(account) == money

    clock.now = NOW + 9 * DAY  # node-a stopped sweeping days ago: its lease ran out
    assert await other.sweep() == (0, 1)
    assert store.state.messages == {}


async def test_without_settings_nothing_is_erased_or_deleted() -> None:
    store = MemoryStore()
    account = (await store.create_account("keep")).id
    await store.top_up(account, 10 * PRICE)
    kept = await _finished(store, account, "kept", NOW)
    sweeper = RetentionSweeper(store, "node", RetentionPolicy(), Clock(NOW + 1000 * DAY))
    assert await sweeper.sweep() == (0, 0)
    assert store.state.messages[kept].text == "kept"


async def test_inbound_sms_go_the_same_way_and_the_sweep_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryStore()
    account = (await store.create_account("shop")).id

    def mo(text: str, at: float) -> NewInbound:
        return NewInbound(
            source="380501112233",
            destination="7000",
            text=text,
            data_coding=0,
            parts=1,
            total=1,
            connector="op",
            received_at=at,
            account_id=account,
        )

    first, second = await store.store_inbound([mo("first", NOW), mo("second", NOW + DAY)])
    clock = Clock(NOW + 2.5 * DAY)
    policy = RetentionPolicy(erase_text_after=2 * DAY, delete_after=5 * DAY, every=60)
    sweeper = RetentionSweeper(store, "node-a", policy, clock)
    caplog.set_level(logging.INFO, "smsgate.gateway.retention")
    assert await sweeper.sweep() == (1, 0)
    assert [m.text for m in await store.inbound_after(account, 0, 10)] == ["", "second"]
    clock.now = NOW + 6 * DAY
    assert await sweeper.sweep() == (1, 1)  # second's text; first's row (second is the newest)
    assert [m.id for m in await store.inbound_after(account, 0, 10)] == [second]
    (line,) = [r for r in caplog.records if getattr(r, "event", None) == "retention"][-1:]
    assert (line.inbound_erased, line.inbound_deleted) == (1, 1)  # type: ignore[attr-defined]
    assert first not in store.state.inbound
