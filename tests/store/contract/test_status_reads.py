"""statuses(): many ids in one read (hot_reads), on both engines: every list length the
doors allow, aliases, unknown and other accounts' ids, duplicates, and a read that leaves no
snapshot behind for the next one."""

from __future__ import annotations

import random

from smsgate.domain.status import PartState, Status
from smsgate.store.interface import Store
from smsgate.store.records import SubmitDone

from ..builders import NOW, PRICE, new_message, request


async def funded(store: Store, login: str) -> int:
    account = await store.create_account(login)
    await store.top_up(account.id, 200 * PRICE)
    return account.id


async def accepted_ids(store: Store, account: int, count: int) -> list[int]:
    batch = [new_message(account, text=f"m{n}") for n in range(count)]
    await store.accept(request(account, *batch))
    return [m.id for m in batch]


async def test_every_list_length_up_to_the_doors_limit_reads_each_id_once(
    store: Store,
) -> None:
    account = await funded(store, "shop")
    ids = await accepted_ids(store, account, 100)
    # SQLite pads IN lists to a power of two by repeating the last id: the lengths either side
    # of each step must neither lose an id nor answer one twice.
    for n in (1, 2, 3, 4, 5, 31, 32, 33, 63, 64, 65, 99, 100):
        assert await store.statuses(account, ids[:n]) == dict.fromkeys(ids[:n], Status.ENROUTE)


async def test_a_mixed_request_answers_only_this_accounts_messages_and_their_aliases(
    store: Store,
) -> None:
    shop, other = await funded(store, "shop"), await funded(store, "other")
    mine = await accepted_ids(store, shop, 60)
    theirs = await accepted_ids(store, other, 10)
    smpp = new_message(shop, text="long", parts=2, alias_ids=(9_000_001, 9_000_002), door="smpp")
    foreign = new_message(other, text="long", parts=2, alias_ids=(9_000_003,), door="smpp")
    await store.accept(request(shop, smpp))
    await store.accept(request(other, foreign))
    cancelled = mine[::7]
    for message_id in cancelled:
        assert await store.cancel(shop, message_id, 0.0)
    unknown = [1, 2, 8_999_999, 2**62]
    asked = mine + theirs + [smpp.id, 9_000_001, 9_000_002, foreign.id, 9_000_003] + unknown
    asked += mine[:5]  # asked twice
    random.Random(3).shuffle(asked)

    expected = {m: Status.REJECTD if m in cancelled else Status.ENROUTE for m in mine}
    expected |= dict.fromkeys((smpp.id, 9_000_001, 9_000_002), Status.ENROUTE)
    assert await store.statuses(shop, asked) == expected
    assert await store.statuses(other, [9_000_001, foreign.id, 9_000_003]) == {
        foreign.id: Status.ENROUTE,
        9_000_003: Status.ENROUTE,
    }


async def test_no_ids_is_an_empty_answer(store: Store) -> None:
    account = await funded(store, "shop")
    assert await store.statuses(account, []) == {}


async def test_a_read_sees_every_write_committed_before_it(store: Store) -> None:
    # A read that left its snapshot open on a pooled connection would answer the next
    # request from the past.
    account = await funded(store, "shop")
    ids = await accepted_ids(store, account, 3)
    for _ in range(6):  # more reads than the reader pool has connections
        assert await store.statuses(account, ids) == dict.fromkeys(ids, Status.ENROUTE)
    assert await store.cancel(account, ids[1], 0.0)
    for _ in range(6):
        assert await store.statuses(account, ids) == {
            ids[0]: Status.ENROUTE,
            ids[1]: Status.REJECTD,
            ids[2]: Status.ENROUTE,
        }


async def test_message_parts_show_each_part_with_its_price_and_operator_id(store: Store) -> None:
    shop, other = await funded(store, "shop"), await funded(store, "other")
    long = new_message(shop, text="long", parts=3, alias_ids=(9_100_001,), door="smpp")
    await store.accept(request(shop, long))
    claimed = await store.claim_parts(0, NOW + 1, 10, 30.0)
    first = next(c for c in claimed if c.message_id == long.id and c.seq == 1)
    await store.submitted([SubmitDone(first.part_id, "op", "X1", NOW + 2)])

    for asked in (long.id, 9_100_001):
        shown = await store.message_parts(shop, asked)
        assert [(p.id, p.seq, p.total, p.price) for p in shown] == [
            (part.id, part.seq, 3, PRICE) for part in long.parts
        ]
        assert (shown[0].state, shown[0].connector, shown[0].operator_id) == (
            PartState.SUBMITTED,
            "op",
            "X1",
        )
        assert shown[0].submitted_at == NOW + 2
        assert [p.operator_id for p in shown[1:]] == [None, None]
    assert await store.message_parts(other, long.id) == []
    assert await store.message_parts(shop, 1) == []
