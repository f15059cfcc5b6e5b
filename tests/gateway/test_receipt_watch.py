"""The receipt watch over the memory store and scripted connectors: overdue parts are asked
about with query_sm and end as the operator answers; parts still without a receipt at their
lifetime's end (plus the grace) become EXPIRED; connectors that cannot be asked are not."""

from __future__ import annotations

import asyncio

from smsgate.domain.status import PartState, Status
from smsgate.gateway.receipt_watch import ReceiptWatch, WatchPolicy
from smsgate.gateway.upstream import ParsedReceipt
from smsgate.smpp.client import NotAcknowledged
from smsgate.smpp.pdu import QuerySm
from smsgate.store.memory import MemoryStore
from smsgate.store.records import (
    AcceptRequest,
    NewMessage,
    NewPart,
    OperatorReceipt,
    SubmitDone,
    Unreceipted,
)

NOW = 1_800_000_000.0
PRICE = 5_000


class Operator:
    """A connector whose query_sm answers come from `answers` (operator id -> state)."""

    def __init__(self, name: str, query_after: float | None, *, ready: bool = True) -> None:
        self.name = name
        self.query_after = query_after
        self.ready = ready
        self.window = 4
        self.answers: dict[str, PartState] = {}
        self.asked: list[str] = []
        self.broken = False

    async def query(self, part: Unreceipted) -> ParsedReceipt | None:
        await asyncio.sleep(0)
        self.asked.append(part.operator_id)
        if self.broken:
            raise NotAcknowledged(QuerySm(message_id=part.operator_id), "no answer")
        state = self.answers.get(part.operator_id)
        return None if state is None else ParsedReceipt(part.operator_id, state, 7)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


async def submitted(store: MemoryStore, connector: str, count: int, lifetime: float) -> list[int]:
    """`count` one-part messages the operator took at NOW (operator ids X0, X1, ...)."""
    account = await store.create_account(f"acct-{connector}")
    await store.top_up(account.id, 100 * PRICE)
    ids = [account.id * 1000 + i for i in range(count)]
    messages = tuple(
        NewMessage(
            mid, account.id, "Shop", "380501234567", "hi", 0, PRICE,
            (NewPart(mid * 10, 1, 1, 0, b"x"),), NOW, NOW + lifetime, "json", str(mid).encode(),
        )
        for mid in ids
    )  # fmt: skip
    await store.accept(AcceptRequest(account.id, NOW, messages))
    claimed = await store.claim_parts(1, NOW, 100, 30)
    await store.submitted(
        [SubmitDone(c.part_id, connector, f"X{i}", NOW) for i, c in enumerate(claimed)]
    )
    return ids


async def statuses(store: MemoryStore, ids: list[int]) -> list[Status]:
    account = (await store.credentials("acct-op")) or (await store.credentials("acct-quiet"))
    assert account is not None
    found = await store.statuses(account.account.id, ids)
    return [found[i] for i in ids]


async def test_an_overdue_part_is_asked_about_and_ends_as_the_operator_answers() -> None:
    store = MemoryStore()
    ids = await submitted(store, "op", 3, lifetime=3600)
    op = Operator("op", query_after=30)
    op.answers = {"X0": PartState.DELIVRD, "X1": PartState.UNDELIV}
    clock = Clock()
    watch = ReceiptWatch(store, [op], clock=clock, policy=WatchPolicy(grace=5))

    clock.now = NOW + 10
    await watch.round()
    assert op.asked == []  # not overdue yet
    clock.now = NOW + 31
    await watch.round()
    assert sorted(op.asked) == ["X0", "X1", "X2"]
    assert await statuses(store, ids) == [Status.DELIVRD, Status.UNDELIV, Status.ENROUTE]
    # The one still on its way is not asked again: its receipt or its lifetime ends it.
    clock.now = NOW + 3000
    await watch.round()
    assert len(op.asked) == 3
    assert await statuses(store, ids) == [Status.DELIVRD, Status.UNDELIV, Status.ENROUTE]


async def test_a_part_without_receipt_expires_after_its_lifetime_and_grace() -> None:
    store = MemoryStore()
    ids = await submitted(store, "quiet", 2, lifetime=60)
    op = Operator("quiet", query_after=None)  # its operator does not support query_sm
    clock = Clock()
    watch = ReceiptWatch(store, [op], clock=clock, policy=WatchPolicy(grace=5))
    clock.now = NOW + 64
    await watch.round()
    assert await statuses(store, ids) == [Status.ENROUTE, Status.ENROUTE]
    clock.now = NOW + 66
    await watch.round()
    assert await statuses(store, ids) == [Status.EXPIRED, Status.EXPIRED]
    assert op.asked == []
    account = await store.credentials("acct-quiet")
    assert account is not None
    b = await store.balance(account.account.id)
    assert (b.reserved, b.charged) == (0, 2 * PRICE)  # taken by the operator: charged


async def test_connectors_bound_elsewhere_are_not_asked_and_a_failed_chunk_is_asked_again() -> None:
    store = MemoryStore()
    ids = await submitted(store, "op", 6, lifetime=3600)
    op = Operator("op", query_after=30, ready=False)
    clock = Clock()
    clock.now = NOW + 31
    watch = ReceiptWatch(store, [op], clock=clock)
    await watch.round()
    assert op.asked == []  # another node binds it: that node asks
    op.ready, op.broken = True, True
    await watch.round()
    assert op.asked == ["X0", "X1"]  # the first chunk failed: the round stops there
    op.broken = False
    op.answers = {f"X{i}": PartState.DELIVRD for i in range(6)}
    await watch.round()
    assert op.asked[2:] == ["X0", "X1", "X2", "X3", "X4", "X5"]
    assert await statuses(store, ids) == [Status.DELIVRD] * 6


async def test_a_part_still_on_its_way_is_asked_again_when_its_lifetime_ends() -> None:
    # Asked at query_after, the operator said ENROUTE for all three. By the lifetime's end it
    # learnt that X0 was delivered (its receipt lost): X0 ends DELIVRD, not EXPIRED.
    store = MemoryStore()
    ids = await submitted(store, "op", 3, lifetime=60)
    op = Operator("op", query_after=30)
    op.answers = {}  # None for each: on its way (ENROUTE, or the operator does not know)
    clock = Clock()
    watch = ReceiptWatch(store, [op], clock=clock, policy=WatchPolicy(grace=5))
    clock.now = NOW + 31
    await watch.round()
    assert sorted(op.asked) == ["X0", "X1", "X2"]
    op.answers["X0"] = PartState.DELIVRD
    clock.now = NOW + 59
    await watch.round()
    assert len(op.asked) == 3  # the lifetime is not over
    clock.now = NOW + 61
    await watch.round()
    assert sorted(op.asked[3:]) == ["X0", "X1", "X2"]  # once more, within the grace
    assert await statuses(store, ids) == [Status.DELIVRD, Status.ENROUTE, Status.ENROUTE]
    clock.now = NOW + 63
    await watch.round()
    assert len(op.asked) == 6  # not asked a third time: X0 is done, X1 and X2 wait the grace
    clock.now = NOW + 66
    await watch.round()
    assert await statuses(store, ids) == [Status.DELIVRD, Status.EXPIRED, Status.EXPIRED]
    assert len(op.asked) == 6


async def test_receipts_that_never_matched_are_forgotten_after_a_day_once_an_hour() -> None:
    store = MemoryStore()
    op = Operator("op", query_after=None)
    clock = Clock()
    watch = ReceiptWatch(store, [op], clock=clock)
    await store.apply_receipts([OperatorReceipt("op", "STRAY", PartState.DELIVRD, 0, NOW)])
    clock.now = NOW + 86_399
    await watch.round()
    assert len(store.state.unmatched) == 1  # not a day old yet
    clock.now = NOW + 86_401
    await watch.round()
    assert len(store.state.unmatched) == 1  # a day old, but the last look was under an hour ago
    clock.now = NOW + 86_399 + 3_600
    await watch.round()
    assert store.state.unmatched == []
