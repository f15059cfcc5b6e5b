"""Traffic by time bucket (the dashboard's charts) is what counting the messages gives, after
every change a message goes through: accepted, delivered, failed by a receipt, refused at
submit, expired queued or unreceipted, cancelled, refused as a held long message, deleted by
retention. The SQL stores answer whole-hour buckets from their per-hour counts and minutes
from the messages, so the minutes summed by hour are the count the hours must equal."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections import defaultdict

from smsgate.domain.ids import first_id_at
from smsgate.domain.status import PartState
from smsgate.store.interface import Store
from smsgate.store.records import OperatorReceipt, RefusedMessage, SubmitDone, SubmitFailed

from ..builders import NOW, PRICE, new_message, request
from .test_held_parts import part

HOUR = 3_600
DAY = 86_400
TTL = 30.0
H = NOW - NOW % HOUR  # an hour's start; H - 2 h and H + 1 h are on one UTC day
Counts = list[tuple[float, int, int, int]]


_minted = itertools.count(1)


def _id_at(at: float) -> int:
    """An id a node minting it at `at` could give (ids grow with time; the messages' reads
    bound them by the period)."""
    return first_id_at(at) + next(_minted)


async def _send(store: Store, account: int, text: str, at: float, **kw: object) -> int:
    message = new_message(account, text=text, now=at, message_id=_id_at(at), **kw)  # type: ignore[arg-type]
    result = await asyncio.wait_for(store.accept(request(account, message, now=at)), 10)
    assert result.outcomes[0].value == "accepted"
    return message.id


async def _hours(store: Store, account: int, since: float, until: float) -> Counts:
    rows = await store.traffic(account, since, until, HOUR)
    return [(r.start, r.sent, r.delivered, r.failed) for r in rows]


async def _minutes_by_hour(store: Store, account: int, since: float, until: float) -> Counts:
    """The messages counted a minute at a time (read from the messages), summed by hour."""
    found: dict[float, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in await store.traffic(account, since, until, 60):
        row = found[r.start - r.start % HOUR]
        row[0] += r.sent
        row[1] += r.delivered
        row[2] += r.failed
    return [(start, *row) for start, row in sorted(found.items())]  # type: ignore[misc]


async def test_traffic_by_hour_and_day_equals_a_count_of_the_messages_after_every_change(
    store: Store,
) -> None:
    account = (await store.create_account("traffic-hours")).id
    other = (await store.create_account("other")).id
    for a in (account, other):
        await store.top_up(a, 100 * PRICE)

    # Two hours ago: one delivered, one 2-part message with a failed part (UNDELIV).
    t = H - 2 * HOUR
    await _send(store, account, "delivered", t + 10)
    await _send(store, account, "undeliv", t + 20, parts=2)
    claimed = await store.claim_parts(1, t + 30, 10, TTL)
    assert len(claimed) == 3
    await store.submitted([SubmitDone(c.part_id, "op", f"T{c.part_id}", t + 31) for c in claimed])
    states = [PartState.DELIVRD, PartState.DELIVRD, PartState.UNDELIV]
    await store.apply_receipts(
        [
            OperatorReceipt("op", f"T{c.part_id}", state, 0, t + 40)
            for c, state in zip(claimed, states, strict=True)
        ]
    )
    # An hour ago: refused at submit (REJECTD).
    await _send(store, account, "refused", H - HOUR + 5)
    (refused,) = await store.claim_parts(1, H - HOUR + 6, 10, TTL)
    await store.failed([SubmitFailed(refused.part_id, PartState.REJECTD, 88, H - HOUR + 7)])
    # This hour: expired queued, cancelled, expired unreceipted, still on its way, and a held
    # long message refused (stored REJECTD at once).
    await _send(store, account, "expires queued", H + 5, lifetime=10)
    assert await store.expire(H + 20) == 1
    cancelled = await _send(store, account, "cancelled", H + 100)
    assert await store.cancel(account, cancelled, H + 101)
    await _send(store, account, "never receipted", H + 200, lifetime=50)
    (taken,) = await store.claim_parts(1, H + 201, 10, TTL)
    await store.submitted([SubmitDone(taken.part_id, "op", "U1", H + 202)])
    assert await store.expire_unreceipted(H + 300, H + 301) == 1
    await _send(store, account, "on its way", H + 300)
    held = [
        dataclasses.replace(part(account, seq, total=2, at=H + 400), id=_id_at(H + 400))
        for seq in (1, 2)
    ]
    for p in held:
        await store.hold_part(p, H + 400, 60)
    assert await store.refuse_held(RefusedMessage(tuple(held), "380501234567", "x", 69, H + 400))
    await _send(store, other, "not mine", H + 500)

    since, until = H - 3 * HOUR, H + 2 * HOUR
    expected = [(H - 2 * HOUR, 2, 1, 1), (H - HOUR, 1, 0, 1), (H, 5, 0, 4)]
    assert await _hours(store, account, since, until) == expected
    assert await _minutes_by_hour(store, account, since, until) == expected
    by_day = await store.traffic(account, H - H % DAY, H - H % DAY + DAY, DAY)
    assert [(r.start, r.sent, r.delivered, r.failed) for r in by_day] == [(H - H % DAY, 8, 1, 6)]
    # A period that starts and ends inside hours: those hours count only their part of it.
    assert await _hours(store, account, H - 2 * HOUR + 15, H + 250) == [
        (H - 2 * HOUR, 1, 0, 1),
        (H - HOUR, 1, 0, 1),
        (H, 3, 0, 3),
    ]
    assert await _hours(store, other, since, until) == [(H, 1, 0, 0)]

    # Retention deletes the finished messages of two hours ago: they leave the counts too.
    assert await store.delete_messages(H - HOUR, 100) == 2
    assert await _hours(store, account, since, until) == expected[1:]
    assert await _minutes_by_hour(store, account, since, until) == expected[1:]
