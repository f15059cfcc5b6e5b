"""The outbox pump against a transport of the test's own: order, holding back, retries and
giving up are the pump's, the same for every transport (SMPP receipts, webhooks next)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Collection, Sequence

import pytest

from smsgate.domain.status import Status
from smsgate.gateway.outbox.pump import OutboxPump, PumpPolicy
from smsgate.gateway.outbox.source import AllAccounts
from smsgate.gateway.outbox.transport import Delivered, Outcome, Refused, Unanswered
from smsgate.gateway.views import RECEIPTS, OutboxItem

T = 5.0  # every wait in these tests is bounded by this
POLICY = PumpPolicy(interval=0.02, retry_after=0.05, linger=0.0, give_up_after=3)


class Rows:
    """Outbox rows in memory, as the store keeps them: pending until marked done."""

    def __init__(self) -> None:
        self.items: dict[int, OutboxItem] = {}
        self.done: list[int] = []
        self.not_due: set[int] = set()  # pending, due later (a retry's backoff)
        self.reads_after: list[int] = []  # the `after` of each read

    def add(self, account_id: int, count: int) -> list[int]:
        ids = []
        for _ in range(count):
            row = len(self.items) + 1
            self.items[row] = OutboxItem(
                row, account_id, row, row, Status.DELIVRD, 0, "380501234567", "Shop", "hi", 1,
                float(row), float(row),
            )  # fmt: skip
            ids.append(row)
        return ids

    def later_item_of(self, row: int, earlier: int) -> None:
        """Make `row` a later item of `earlier`'s message (its final status after ENROUTE)."""
        self.items[row] = dataclasses.replace(self.items[row], message_id=earlier)

    async def outbox_accounts(self, *, kind: str = RECEIPTS) -> list[int]:
        return sorted({i.account_id for r, i in self.items.items() if r not in self.done})

    async def outbox_pending(
        self, account_id: int, limit: int, *, kind: str = RECEIPTS, after: int = 0
    ) -> list[OutboxItem]:
        self.reads_after.append(after)
        rows = sorted(self.items.items())
        pending = [i for r, i in rows if r not in self.done and r not in self.not_due and r > after]
        return [i for i in pending if i.account_id == account_id][:limit]

    async def outbox_done(self, item_ids: Sequence[int]) -> None:
        self.done.extend(item_ids)


class Customer:
    """A transport whose customer answers each item with `answer(row id)`."""

    kind = "test"

    def __init__(self, answer: Callable[[int], Outcome] = lambda row: Delivered) -> None:
        self.reachable: set[int] = set()
        self.held_from: int | None = None  # items from this row on are held back
        self.answer = answer
        self.seen: list[int] = []
        self.rounds = 0  # times the pump asked whom it can reach

    def ready_accounts(self) -> Collection[int]:
        self.rounds += 1
        return self.reachable

    def sendable(self, account_id: int, items: Sequence[OutboxItem]) -> int:
        for i, item in enumerate(items):
            if self.held_from is not None and item.id >= self.held_from:
                return i
        return len(items)

    async def deliver(
        self, account_id: int, items: Sequence[OutboxItem]
    ) -> Sequence[Outcome] | None:
        if account_id not in self.reachable:
            return None
        self.seen.extend(i.id for i in items)
        return [self.answer(i.id) for i in items]


class Holding(Customer):
    """A customer that answers a batch holding one of the `held` items only once that item's
    gate is set (`release`: the first one's); `waiting` lists the items it holds now."""

    def __init__(self, *held: int) -> None:
        super().__init__()
        self.gates = {row: asyncio.Event() for row in held}
        self.release = self.gates[held[0]]
        self.waiting: set[int] = set()

    async def deliver(
        self, account_id: int, items: Sequence[OutboxItem]
    ) -> Sequence[Outcome] | None:
        for item in items:
            gate = self.gates.get(item.id)
            if gate is not None:
                self.waiting.add(item.id)
                await gate.wait()
                self.waiting.discard(item.id)
        return await super().deliver(account_id, items)


@pytest.fixture
def rows() -> Rows:
    return Rows()


@pytest.fixture
async def running() -> AsyncIterator[Callable[[OutboxPump], OutboxPump]]:
    pumps: list[OutboxPump] = []

    def run(pump: OutboxPump) -> OutboxPump:
        pumps.append(pump)
        asyncio.get_running_loop().create_task(pump.start())
        return pump

    yield run
    for pump in pumps:
        await asyncio.wait_for(pump.stop(), T)


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(T):
        while not condition():
            await asyncio.sleep(0.01)


async def test_items_go_in_order_and_are_marked_done(rows: Rows, running: Callable) -> None:
    ids = rows.add(7, 5)
    customer = Customer()
    customer.reachable.add(7)
    pump = running(OutboxPump(AllAccounts(rows), customer, POLICY))
    await until(lambda: pump.delivered == 5)
    assert customer.seen == ids
    assert sorted(rows.done) == ids


async def test_rows_of_an_unreachable_account_wait_until_it_is_reachable(
    rows: Rows, running: Callable
) -> None:
    ids = rows.add(7, 2)
    customer = Customer()
    pump = running(OutboxPump(AllAccounts(rows), customer, POLICY))
    await until(lambda: customer.rounds >= 3)  # rounds ran; nothing could be sent
    assert customer.seen == [] and rows.done == []
    customer.reachable.add(7)
    pump.wake(7)
    await until(lambda: sorted(rows.done) == ids)


async def test_a_held_item_holds_the_ones_after_it(rows: Rows, running: Callable) -> None:
    ids = rows.add(7, 4)
    customer = Customer()
    customer.reachable.add(7)
    customer.held_from = ids[2]
    running(OutboxPump(AllAccounts(rows), customer, POLICY))
    await until(lambda: sorted(rows.done) == ids[:2])
    customer.held_from = None
    await until(lambda: sorted(rows.done) == ids)
    assert customer.seen == ids


async def test_unanswered_items_stay_pending_and_are_sent_again(
    rows: Rows, running: Callable
) -> None:
    (row,) = rows.add(7, 1)
    answers = [Unanswered] * 4  # more than give_up_after: no answer is not a refusal
    customer = Customer(lambda r: answers.pop() if answers else Delivered)
    customer.reachable.add(7)
    pump = running(OutboxPump(AllAccounts(rows), customer, POLICY))
    await until(lambda: rows.done == [row])
    assert customer.seen == [row] * 5
    assert (pump.delivered, pump.given_up) == (1, 0)


@pytest.mark.parametrize(
    ("refusal", "attempts"), [(Refused("busy"), 3), (Refused("never", final=True), 1)]
)
async def test_an_item_always_refused_is_given_up_and_the_next_ones_flow(
    rows: Rows, running: Callable, refusal: Refused, attempts: int
) -> None:
    first, second = rows.add(7, 2)
    customer = Customer(lambda r: refusal if r == first else Delivered)
    customer.reachable.add(7)
    pump = running(OutboxPump(AllAccounts(rows), customer, POLICY))
    await until(lambda: sorted(rows.done) == [first, second])
    assert customer.seen.count(first) == attempts
    assert (pump.delivered, pump.given_up) == (1, 1)


async def test_a_pipelined_stream_reads_above_what_it_sent_and_rescans_for_what_came_due(
    rows: Rows, running: Callable
) -> None:
    # Batches of two, two in flight; the batch of the last item does not end until released,
    # so the stream always has one in flight and reads only above it, except every
    # `rescan_every`: the first item, due only later (a retry's backoff), is still sent.
    first, second, third, last = rows.add(7, 4)
    rows.not_due.add(first)
    customer = Holding(last)
    release = customer.release
    customer.reachable.add(7)
    policy = PumpPolicy(interval=0.02, linger=0.0, batch=2, pipeline=2, rescan_every=0.2)
    running(OutboxPump(AllAccounts(rows), customer, policy))
    await until(lambda: sorted(rows.done) == [second, third])
    await until(lambda: rows.reads_after.count(last) >= 2)  # reads above the stuck batch
    rows.not_due.discard(first)
    await until(lambda: first in rows.done)
    assert last not in rows.done  # its batch was in flight all along
    release.set()
    await until(lambda: sorted(rows.done) == [first, second, third, last])
    assert customer.seen.count(first) == 1 and customer.seen.count(last) == 1


async def test_a_pipelined_stream_sends_a_messages_later_item_once_its_earlier_one_settled(
    rows: Rows, running: Callable
) -> None:
    # A message's ENROUTE callback, then its final one, in batches of one with two in flight:
    # the final one waits while the first is still being delivered (a receiver would hear
    # them out of order), and another message's item does not.
    enroute, other, final = rows.add(7, 3)
    rows.later_item_of(final, enroute)
    customer = Holding(enroute)
    release = customer.release
    customer.reachable.add(7)
    policy = PumpPolicy(interval=0.02, linger=0.0, batch=1, pipeline=2, rescan_every=0.1)
    running(OutboxPump(AllAccounts(rows), customer, policy))
    await until(lambda: other in rows.done)
    await asyncio.sleep(0.3)  # rounds and rescans while the first is in flight
    assert final not in customer.seen
    release.set()
    await until(lambda: sorted(rows.done) == [enroute, other, final])
    assert customer.seen.index(enroute) < customer.seen.index(final)


async def test_a_held_later_item_goes_once_its_earlier_one_settles_not_at_the_next_rescan(
    rows: Rows, running: Callable
) -> None:
    # A message's ENROUTE callback in flight; then its final one and another message's item
    # come in one read: the final one is held, the other goes and stays in flight, so the
    # stream has sent past the held one. Once the ENROUTE settles, the final one goes at once,
    # not at the stream's next rescan from the oldest (a minute here).
    enroute, final, other = rows.add(7, 3)
    rows.later_item_of(final, enroute)
    rows.not_due.update((final, other))
    customer = Holding(enroute, other)
    customer.reachable.add(7)
    policy = PumpPolicy(interval=0.02, linger=0.0, batch=2, pipeline=2, rescan_every=60.0)
    running(OutboxPump(AllAccounts(rows), customer, policy))
    await until(lambda: enroute in customer.waiting)
    rows.not_due.clear()
    await until(lambda: other in customer.waiting)
    assert final not in customer.seen
    customer.gates[enroute].set()
    await until(lambda: final in rows.done)
    assert other in customer.waiting  # still in flight: the final one did not wait for it
    customer.gates[other].set()
    await until(lambda: sorted(rows.done) == [enroute, final, other])


class CommittedRows(Rows):
    """Rows with the store's sign of commits (roles.Changes): adding rows is a commit."""

    def __init__(self) -> None:
        super().__init__()
        self.version = 0
        self.bumped = asyncio.Event()

    def add(self, account_id: int, count: int) -> list[int]:
        ids = super().add(account_id, count)
        self.version += 1
        self.bumped.set()
        return ids

    def data_version(self) -> int | None:
        return self.version

    async def changed(self, seen: int | None, timeout: float) -> None:
        if seen != self.version:
            return
        self.bumped.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.bumped.wait(), timeout)


RESTING = PumpPolicy(interval=0.02, linger=0.0, idle_round_every=600.0)


async def test_at_rest_a_round_waits_for_a_commit_and_a_commit_starts_one_at_once(
    running: Callable,
) -> None:
    rows = CommittedRows()
    customer = Customer()
    customer.reachable.add(7)
    pump = running(OutboxPump(AllAccounts(rows), customer, RESTING, changes=rows))
    await until(lambda: customer.rounds >= 1)
    await asyncio.sleep(0.3)  # fifteen intervals: a polling pump would have asked 15 times
    assert customer.rounds <= 2
    rows.add(7, 3)
    await until(lambda: pump.delivered == 3)  # within T, far below idle_round_every


async def test_a_wake_ends_a_rest(running: Callable) -> None:
    rows = CommittedRows()
    customer = Customer()
    pump = running(OutboxPump(AllAccounts(rows), customer, RESTING, changes=rows))
    rows.add(7, 2)  # its account is not reachable yet: the rows wait
    await until(lambda: customer.rounds >= 1)
    await asyncio.sleep(0.1)  # at rest now: no commit comes
    customer.reachable.add(7)
    pump.wake(7)  # no commit: only the wake tells the pump
    await until(lambda: pump.delivered == 2)


async def test_rows_held_back_are_polled_for_not_left_to_rest(running: Callable) -> None:
    rows = CommittedRows()
    ids = rows.add(7, 2)
    customer = Customer()
    customer.reachable.add(7)
    customer.held_from = ids[0]  # e.g. the SMPP door's gate, until a response is written
    pump = running(OutboxPump(AllAccounts(rows), customer, RESTING, changes=rows))
    await until(lambda: customer.rounds >= 2)
    assert customer.seen == []
    customer.held_from = None  # released without a commit or a wake
    await until(lambda: pump.delivered == 2)  # within T, far below idle_round_every
