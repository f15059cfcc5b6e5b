"""The event log: every change of a message is an event written with the change, numbered per
account from 1 with no gap, and replayed in order; two nodes on one database share the
numbering."""

from __future__ import annotations

import asyncio
import json

from smsgate.domain.status import PartState
from smsgate.store.interface import Store
from smsgate.store.records import AccountEvent, OperatorReceipt, SubmitDone, SubmitFailed

from ..builders import NOW, new_message, request
from .test_progress import TTL, accepted, funded


def kinds(events: list[AccountEvent]) -> list[tuple[str, int | None]]:
    return [(e.type, e.part_id) for e in events]


async def test_a_messages_life_is_logged_in_order(store: Store) -> None:
    account = await funded(store)
    message = await accepted(store, account, parts=2)
    first, second = (p.id for p in message.parts)
    claimed = await store.claim_parts(1, NOW, 10, TTL)
    await store.submitted([SubmitDone(first, "op", "X1", NOW + 1)])
    await store.failed([SubmitFailed(second, PartState.REJECTD, 0x45, NOW + 2)])
    await store.apply_receipts([OperatorReceipt("op", "X1", PartState.UNDELIV, 34, NOW + 3)])
    assert len(claimed) == 2
    logged = await store.events(account, 0, 100)
    assert [e.seq for e in logged] == [1, 2, 3, 4, 5]
    assert kinds(logged) == [
        ("accepted", None),
        ("submitted", first),
        ("refused", second),
        ("refunded", second),
        ("receipt", first),
    ]
    assert all(e.message_id == message.id for e in logged)
    data = [json.loads(e.data) if e.data else None for e in logged]
    assert data == [
        {"parts": 2},
        {"connector": "op", "operator_id": "X1"},
        {"command_status": 0x45},
        {"amount": message.price_per_part},
        {"stat": "UNDELIV", "err": 34},
    ]
    assert [e.at for e in logged[1:]] == [NOW + 1, NOW + 2, NOW + 2, NOW + 3]
    # Replay from any point, in pages.
    assert await store.events(account, 3, 1) == [logged[3]]
    assert await store.events(account, 5, 10) == []


async def test_expired_and_cancelled_messages_say_so_and_refund(store: Store) -> None:
    account = await funded(store)
    short = await accepted(store, account, text="short", lifetime=5)
    kept = await accepted(store, account, text="kept")
    assert await store.expire(NOW + 10) == 1
    assert await store.cancel(account, kept.id, NOW + 11) is True
    logged = await store.events(account, 0, 100)
    assert [(e.type, e.message_id) for e in logged] == [
        ("accepted", short.id),
        ("accepted", kept.id),
        ("expired", short.id),
        ("refunded", short.id),
        ("cancelled", kept.id),
        ("refunded", kept.id),
    ]


async def test_each_account_has_its_own_sequence(store: Store) -> None:
    a, b = await funded(store, "a"), await funded(store, "b")
    await accepted(store, a, text="1")
    await accepted(store, b, text="1")
    await accepted(store, a, text="2")
    assert [e.seq for e in await store.events(a, 0, 10)] == [1, 2]
    assert [e.seq for e in await store.events(b, 0, 10)] == [1]


async def test_two_nodes_number_one_accounts_events_without_gaps_or_repeats(
    store: Store, second_store: Store
) -> None:
    account = await funded(store)

    async def send(node: Store, n: int) -> None:
        for i in range(n):
            message = new_message(account, text=f"{id(node)}-{i}")
            await asyncio.wait_for(node.accept(request(account, message)), 10)

    await asyncio.gather(send(store, 15), send(second_store, 15))
    parts = await store.claim_parts(1, NOW, 100, TTL)
    half = len(parts) // 2
    await asyncio.gather(
        store.submitted([SubmitDone(p.part_id, "op", f"A{p.part_id}", NOW) for p in parts[:half]]),
        second_store.submitted(
            [SubmitDone(p.part_id, "op", f"A{p.part_id}", NOW) for p in parts[half:]]
        ),
    )
    logged = await second_store.events(account, 0, 1000)
    assert [e.seq for e in logged] == list(range(1, 61))
    assert sorted(kinds(logged)).count(("accepted", None)) == 30
    # Read in pages from either node: the same log.
    paged: list[AccountEvent] = []
    while page := await store.events(account, paged[-1].seq if paged else 0, 7):
        paged.extend(page)
    assert paged == logged
