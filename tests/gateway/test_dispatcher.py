"""The dispatcher against the in-memory store and a fake operator: what it claims, how much it
keeps in flight, and that every answer ends up recorded (accepted, requeued or failed)."""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Sequence

import pytest

from smsgate.batching import BatchQueue, whole_batch
from smsgate.config import ConnectorSettings
from smsgate.domain.status import PartState
from smsgate.gateway.connector import Connector
from smsgate.gateway.dispatcher import Dispatcher
from smsgate.gateway.router import Route, Router
from smsgate.gateway.upstream import SubmitAnswer, classify_submit_response
from smsgate.smpp.constants import CommandStatus
from smsgate.store.memory import MemoryStore
from smsgate.store.records import (
    AcceptRequest,
    ClaimedPart,
    NewMessage,
    NewPart,
    OperatorReceipt,
    Outcome,
    SubmitDone,
    SubmitFailed,
)

WINDOW = 8


class RecordingStore(MemoryStore):
    """The in-memory store, with one part per phone queued, keeping a log of the dispatcher's
    writes: how much each claim took and what it recorded for which part."""

    def __init__(self) -> None:
        super().__init__()
        self.claims: list[tuple[int, int]] = []  # (parts asked for, parts taken)
        self.done: list[SubmitDone] = []
        self.failures: list[SubmitFailed] = []
        self.requeued: list[int] = []

    async def queue(self, phones: Sequence[str]) -> None:
        """Part i (from 1) goes to phones[i - 1]."""
        account = await self.create_account("shop")
        await self.top_up(account.id, len(phones))
        now = time.time()
        messages = tuple(
            NewMessage(
                10_000 + i, account.id, "Shop", phone, "hi", 0, 1,
                (NewPart(i, 1, 1, 0, b"x"),), now, now + 3600, "json", phone.encode(),
            )
            for i, phone in enumerate(phones, start=1)
        )  # fmt: skip
        result = await self.accept(AcceptRequest(account.id, now, messages))
        assert set(result.outcomes) == {Outcome.ACCEPTED}

    async def claim_parts(
        self, node_id: int, now: float, limit: int, claim_ttl: float
    ) -> list[ClaimedPart]:
        taken = await super().claim_parts(node_id, now, limit, claim_ttl)
        if taken:
            self.claims.append((limit, len(taken)))
        return taken

    async def submitted(self, done: Sequence[SubmitDone]) -> None:
        self.done.extend(done)
        await super().submitted(done)

    async def failed(self, failures: Sequence[SubmitFailed]) -> None:
        self.failures.extend(failures)
        await super().failed(failures)

    async def requeue(self, part_ids: Sequence[int], not_before: float) -> None:
        self.requeued.extend(part_ids)
        await super().requeue(part_ids, not_before)


class FakeOperator(Connector):
    """Answers after a random short delay; refuses parts to numbers ending in 7 for good and
    throttles those ending in 5."""

    def __init__(self) -> None:
        settings = ConnectorSettings(
            name="op", host="127.0.0.1", port=1, system_id="s", password="p", window=WINDOW
        )
        super().__init__(settings, BatchQueue(whole_batch(self._no_receipts)))
        self.in_flight = 0
        self.max_in_flight = 0
        self.sent = self.settled_count = self.max_unsettled = 0
        self._tasks: set[asyncio.Task[SubmitAnswer]] = set()

    @staticmethod
    async def _no_receipts(items: Sequence[OperatorReceipt]) -> None:
        raise AssertionError("no receipts expected")

    @property
    def ready(self) -> bool:
        return True

    def settled(self) -> None:
        self.settled_count += 1
        super().settled()

    def _send(
        self, part: ClaimedPart, done: Callable[[SubmitAnswer | BaseException], None]
    ) -> None:
        # Below the connector's window gate (bound_resends): what an SMPP client would write.
        self.sent += 1
        self.max_unsettled = max(self.max_unsettled, self.sent - self.settled_count)
        task = asyncio.ensure_future(self._answer(part))
        self._tasks.add(task)
        task.add_done_callback(lambda t: (self._tasks.discard(t), done(t.result())))

    async def _answer(self, part: ClaimedPart) -> SubmitAnswer:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(random.uniform(0, 0.002))
        finally:
            self.in_flight -= 1
        if part.phone.endswith("7"):
            return classify_submit_response(CommandStatus.ESME_RINVDSTADR, "")
        if part.phone.endswith("5"):
            return classify_submit_response(CommandStatus.ESME_RTHROTTLED, "")
        return classify_submit_response(CommandStatus.ESME_ROK, f"op-{part.part_id}")


async def run_until_empty(store: RecordingStore, dispatcher: Dispatcher, parts: int) -> None:
    runner = asyncio.create_task(dispatcher.run())

    async def recorded() -> None:
        while len(store.done) + len(store.failures) + len(store.requeued) < parts:
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(recorded(), 10)
    finally:
        await dispatcher.stop()
        runner.cancel()


async def test_every_answer_is_recorded_and_in_flight_stays_bounded() -> None:
    phones = [f"38050{n:07d}" for n in range(2_000)]
    store = RecordingStore()
    await store.queue(phones)
    operator = FakeOperator()
    dispatcher = Dispatcher(
        store,
        Router([Route("380", ("op",))], [operator]),
        [operator],
        node_id=1,
    )
    await run_until_empty(store, dispatcher, len(phones))

    by_phone = {i: p for i, p in enumerate(phones, start=1)}
    assert sorted(d.part_id for d in store.done) == [
        i for i, p in by_phone.items() if p[-1] not in "57"
    ]
    assert all(d.operator_id == f"op-{d.part_id}" for d in store.done)
    assert sorted(f.part_id for f in store.failures) == [
        i for i, p in by_phone.items() if p[-1] == "7"
    ]
    assert all(f.state == PartState.UNDELIV for f in store.failures)
    # (A throttled part may come due again and be requeued twice on a slow machine.)
    assert sorted(set(store.requeued)) == [i for i, p in by_phone.items() if p[-1] == "5"]
    # At most eight windows claimed at once, in batches of two windows; at most one window
    # sent and not yet stored, refused or failed (what a crash resends).
    assert operator.max_in_flight <= WINDOW
    assert operator.max_unsettled <= WINDOW
    assert operator.settled_count == operator.sent >= len(phones)
    # Each claim asks for two windows or more; it takes fewer only when fewer are due. (Which
    # claims those are depends on the machine's speed: throttled parts come due again one by
    # one, and on a loaded machine several of them after the rest ran out.)
    assert all(asked >= 2 * WINDOW for asked, _ in store.claims)
    assert sum(taken >= 2 * WINDOW for _, taken in store.claims) >= len(phones) // (16 * WINDOW)
    assert dispatcher.in_flight == 0
    # In the store: the operator's parts are paid for, refused ones refunded, throttled queued.
    money = await store.balance(1)
    assert (money.charged, money.reserved) == (len(store.done), len(set(store.requeued)))
    assert await store.queue_depth() == len(set(store.requeued))


async def test_a_part_without_a_route_fails_without_reaching_a_connector() -> None:
    store = RecordingStore()
    await store.queue(["380501234568", "4915112345678"])
    operator = FakeOperator()
    dispatcher = Dispatcher(
        store,
        Router([Route("380", ("op",))], [operator]),
        [operator],
        node_id=1,
    )
    await run_until_empty(store, dispatcher, 2)
    assert [d.part_id for d in store.done] == [1]
    assert [(f.part_id, f.state, f.error) for f in store.failures] == [
        (2, PartState.REJECTD, CommandStatus.ESME_RINVDSTADR)
    ]


class TroubledStore(RecordingStore):
    """The database in trouble for a while: its first `failures` releases and claims raise as a
    locked SQLite file does."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures_left = failures

    def _trouble(self) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise sqlite3.OperationalError("database is locked")

    async def release_claims(self, now: float, node_id: int | None = None) -> int:
        self._trouble()
        return await super().release_claims(now, node_id)

    async def claim_parts(
        self, node_id: int, now: float, limit: int, claim_ttl: float
    ) -> list[ClaimedPart]:
        self._trouble()
        return await super().claim_parts(node_id, now, limit, claim_ttl)


async def test_the_dispatcher_outlives_a_database_in_trouble(
    caplog: pytest.LogCaptureFixture,
) -> None:
    phones = [f"38050{n:07d}" for n in range(40)]
    store = TroubledStore(failures=3)
    await store.queue(phones)
    operator = FakeOperator()
    dispatcher = Dispatcher(
        store, Router([Route("380", ("op",))], [operator]), [operator], node_id=1
    )
    with caplog.at_level(logging.WARNING):
        await run_until_empty(store, dispatcher, len(phones))
    assert store.failures_left == 0
    assert len(store.done) + len(store.failures) + len(store.requeued) == len(phones)
    assert any(
        "failed (OperationalError: database is locked); trying again" in r.getMessage()
        for r in caplog.records
    )
