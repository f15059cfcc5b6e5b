"""The dispatcher against a fake store and a fake operator: what it claims, how much it keeps in
flight, and that every answer ends up recorded (accepted, requeued or failed)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence

from smsgate.config import ConnectorSettings
from smsgate.domain.status import PartState
from smsgate.gateway.batcher import Batcher
from smsgate.gateway.connector import Connector
from smsgate.gateway.dispatcher import Dispatcher
from smsgate.gateway.router import Route, Router
from smsgate.gateway.upstream import SubmitAnswer, classify_submit_response
from smsgate.smpp.constants import CommandStatus
from smsgate.store.records import ClaimedPart, OperatorReceipt, SubmitDone, SubmitFailed

WINDOW = 8


class FakeStore:
    def __init__(self, phones: Sequence[str]) -> None:
        self.queue = [
            ClaimedPart(i, i, 1, "Shop", phone, 0, 1, 1, 0, b"x", 1, 1e12)
            for i, phone in enumerate(phones, start=1)
        ]
        self.claims: list[int] = []
        self.done: list[SubmitDone] = []
        self.failures: list[SubmitFailed] = []
        self.requeued: list[int] = []

    async def release_claims(self, now: float, node_id: int | None = None) -> int:
        return 0

    async def claim_parts(
        self, node_id: int, now: float, limit: int, claim_ttl: float
    ) -> list[ClaimedPart]:
        taken, self.queue = self.queue[:limit], self.queue[limit:]
        if taken:
            self.claims.append(len(taken))
        return taken

    async def submitted(self, done: Sequence[SubmitDone]) -> None:
        self.done.extend(done)

    async def failed(self, failures: Sequence[SubmitFailed]) -> None:
        self.failures.extend(failures)

    async def requeue(self, part_ids: Sequence[int], not_before: float) -> None:
        self.requeued.extend(part_ids)

    async def expire(self, now: float) -> int:
        return 0

    async def queue_depth(self) -> int:
        return len(self.queue)


class FakeOperator(Connector):
    """Answers after a random short delay; refuses parts to numbers ending in 7 for good and
    throttles those ending in 5."""

    def __init__(self) -> None:
        settings = ConnectorSettings(
            name="op", host="127.0.0.1", port=1, system_id="s", password="p", window=WINDOW
        )
        super().__init__(settings, Batcher[OperatorReceipt](self._no_receipts))
        self.in_flight = 0
        self.max_in_flight = 0
        self._tasks: set[asyncio.Task[SubmitAnswer]] = set()

    @staticmethod
    async def _no_receipts(items: Sequence[OperatorReceipt]) -> None:
        raise AssertionError("no receipts expected")

    @property
    def ready(self) -> bool:
        return True

    def submit_soon(
        self, part: ClaimedPart, done: Callable[[SubmitAnswer | BaseException], None]
    ) -> None:
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


async def run_until_empty(store: FakeStore, dispatcher: Dispatcher, parts: int) -> None:
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
    store = FakeStore(phones)
    operator = FakeOperator()
    dispatcher = Dispatcher(
        store,  # type: ignore[arg-type]
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
    assert sorted(store.requeued) == [i for i, p in by_phone.items() if p[-1] == "5"]
    # At most eight windows claimed at once, in batches of two windows (the last may be less).
    assert operator.max_in_flight <= 8 * WINDOW
    assert all(size >= 2 * WINDOW for size in store.claims[:-1])
    assert dispatcher.in_flight == 0


async def test_a_part_without_a_route_fails_without_reaching_a_connector() -> None:
    store = FakeStore(["380501234568", "4915112345678"])
    operator = FakeOperator()
    dispatcher = Dispatcher(
        store,  # type: ignore[arg-type]
        Router([Route("380", ("op",))], [operator]),
        [operator],
        node_id=1,
    )
    await run_until_empty(store, dispatcher, 2)
    assert [d.part_id for d in store.done] == [1]
    assert [(f.part_id, f.state, f.error) for f in store.failures] == [
        (2, PartState.REJECTD, CommandStatus.ESME_RINVDSTADR)
    ]
