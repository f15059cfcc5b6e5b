"""Parts of long SMPP messages held in the store, on both engines: completion claims the group,
a lapsed claim or an old incomplete group is handed to a sweep, accepting or refusing the
message consumes the parts exactly once, also when two nodes race."""

from __future__ import annotations

import asyncio
import dataclasses

from smsgate.domain.status import Status
from smsgate.store.interface import Store
from smsgate.store.records import HeldPart, Outcome, RateLimit, RefusedMessage

from ..builders import NOW, PRICE, new_message, next_id, request


async def funded(store: Store, login: str = "shop") -> int:
    account = await store.create_account(login)
    await store.top_up(account.id, 100 * PRICE)
    return account.id


def part(account_id: int, seq: int, *, total: int = 3, ref: int = 7, at: float = NOW) -> HeldPart:
    return HeldPart(
        next_id(),
        account_id,
        "Shop",
        "380501234567",
        ref,
        total,
        seq,
        0,
        f"part {seq}.".encode(),
        seq == 1,
        None,
        at,
    )


async def test_the_part_that_completes_a_message_gets_all_its_parts_claimed(
    store: Store,
) -> None:
    account = await funded(store)
    p1, p2, p3 = (part(account, seq) for seq in (1, 2, 3))
    assert (await store.hold_part(p3, NOW, 60)).complete == ()
    assert (await store.hold_part(p1, NOW, 60)).complete == ()
    done = await store.hold_part(p2, NOW, 60)
    assert done.id == p2.id
    assert [p.seq for p in done.complete] == [1, 2, 3]
    assert done.complete[0] == p1
    # claimed: no sweep takes it before the claim lapses
    due = await store.held_due(NOW + 30, NOW + 30, 60)
    assert (due.complete, due.incomplete) == ([], [])
    due = await store.held_due(NOW + 61, NOW, 60)
    assert [[p.id for p in g] for g in due.complete] == [[p1.id, p2.id, p3.id]]


async def test_a_part_sent_again_replaces_the_first_copy_and_keeps_its_id(
    store: Store,
) -> None:
    account = await funded(store)
    first = part(account, 1, total=2)
    again = dataclasses.replace(first, id=next_id(), payload=b"fixed")
    assert (await store.hold_part(first, NOW, 60)).id == first.id
    assert (await store.hold_part(again, NOW, 60)).id == first.id
    done = await store.hold_part(part(account, 2, total=2), NOW, 60)
    assert [p.payload for p in done.complete] == [b"fixed", b"part 2."]
    # a late copy while the message is being finished answers with the id it had
    late = dataclasses.replace(first, id=next_id())
    assert await store.hold_part(late, NOW, 60) == type(done)(first.id)


async def test_messages_are_told_apart_by_reference_sender_and_recipient(
    store: Store,
) -> None:
    account = await funded(store)
    await store.hold_part(part(account, 1, total=2, ref=1), NOW, 60)
    other_ref = await store.hold_part(part(account, 2, total=2, ref=2), NOW, 60)
    other_phone = dataclasses.replace(part(account, 2, total=2, ref=1), destination="380671234567")
    assert other_ref.complete == ()
    assert (await store.hold_part(other_phone, NOW, 60)).complete == ()
    assert len((await store.hold_part(part(account, 2, total=2, ref=1), NOW, 60)).complete) == 2


async def test_incomplete_groups_are_due_after_the_timeout_and_claimed_once(
    store: Store,
) -> None:
    account = await funded(store)
    old = part(account, 1, ref=1, at=NOW)
    young = part(account, 1, ref=2, at=NOW + 100)
    await store.hold_part(old, NOW, 60)
    await store.hold_part(young, NOW + 100, 60)
    due = await store.held_due(NOW + 120, NOW + 50, 60)
    assert [[p.id for p in g] for g in due.incomplete] == [[old.id]]
    again = await store.held_due(NOW + 121, NOW + 50, 60)  # claimed by the first sweep
    assert again.incomplete == []


async def test_refusing_stores_a_rejectd_message_under_the_parts_ids_once(
    store: Store,
) -> None:
    account = await funded(store)
    parts = [part(account, seq, total=2) for seq in (1, 2)]
    for p in parts:
        await store.hold_part(p, NOW, 60)
    refused = RefusedMessage(tuple(parts), "380501234567", "part 1.part 2.", 69, NOW + 5)
    assert await store.refuse_held(refused) is True
    assert await store.refuse_held(refused) is False  # already finished: nothing doubles
    ids = [p.id for p in parts]
    assert await store.statuses(account, ids) == dict.fromkeys(ids, Status.REJECTD)
    view = await store.message(account, parts[1].id)
    assert view is not None and (view.status, view.error) == (Status.REJECTD, 69)
    (receipt,) = await store.outbox_pending(account, 10)  # only part 1 asked for one
    assert (receipt.pdu_id, receipt.status, receipt.error) == (parts[0].id, Status.REJECTD, 69)
    balance = await store.balance(account)
    assert (balance.balance, balance.reserved, balance.charged) == (100 * PRICE, 0, 0)
    assert await store.queue_depth() == 0
    due = await store.held_due(NOW + 1000, NOW + 1000, 60)
    assert (due.complete, due.incomplete) == ([], [])


async def test_accepting_consumes_the_held_parts_and_a_second_accept_is_gone(
    store: Store,
) -> None:
    account = await funded(store)
    parts = [part(account, seq, total=2) for seq in (1, 2)]
    for p in parts:
        await store.hold_part(p, NOW, 60)
    held_ids = tuple(p.id for p in parts)
    message = dataclasses.replace(
        new_message(account, message_id=parts[0].id, alias_ids=(parts[1].id,)),
        held_ids=held_ids,
    )
    first = await store.accept(request(account, message))
    assert first.outcomes == (Outcome.ACCEPTED,)
    twin = dataclasses.replace(message, id=next_id(), text="other", dedupe_key=b"other")
    second = await store.accept(request(account, twin))
    assert second.outcomes == (Outcome.GONE,)
    refused = RefusedMessage(tuple(parts), "380501234567", "x", 69, NOW)
    assert await store.refuse_held(refused) is False
    assert await store.statuses(account, [parts[0].id, parts[1].id]) == {
        parts[0].id: Status.ENROUTE,
        parts[1].id: Status.ENROUTE,
    }
    due = await store.held_due(NOW + 1000, NOW + 1000, 60)
    assert (due.complete, due.incomplete) == ([], [])


async def test_two_nodes_holding_the_parts_of_one_message_complete_it_once(
    store: Store, second_store: Store
) -> None:
    account = await funded(store)
    for round_ in range(10):
        parts = [part(account, seq, total=2, ref=100 + round_) for seq in (1, 2)]
        results = await asyncio.gather(
            store.hold_part(parts[0], NOW, 60), second_store.hold_part(parts[1], NOW, 60)
        )
        completed = [r for r in results if r.complete]
        assert len(completed) == 1, round_
        assert [p.id for p in completed[0].complete] == [parts[0].id, parts[1].id]


async def test_each_part_takes_a_token_and_a_part_over_the_limit_is_not_kept(
    store: Store,
) -> None:
    account = await funded(store)
    limit = RateLimit(rate=1.0, burst=1.0)
    p1, p2 = (part(account, seq, total=2) for seq in (1, 2))
    assert (await store.hold_part(p1, NOW, 60, limit)).retry_after is None
    refused = await store.hold_part(p2, NOW + 0.1, 60, limit)
    assert refused.retry_after is not None and refused.retry_after > 0.8
    assert refused.complete == ()
    later = await store.hold_part(p2, NOW + 1.1, 60, limit)
    assert later.retry_after is None
    assert [p.id for p in later.complete] == [p1.id, p2.id]


async def test_a_held_part_answers_enroute_under_its_id_to_its_own_account_only(
    store: Store,
) -> None:
    account = await funded(store)
    other = await funded(store, "other")
    p1 = part(account, 1, total=2)
    await store.hold_part(p1, NOW, 60)
    assert await store.statuses(account, [p1.id]) == {p1.id: Status.ENROUTE}
    assert await store.statuses(other, [p1.id]) == {}
    view = await store.message(account, p1.id)
    assert view is not None
    assert (view.id, view.status, view.phone, view.sender) == (
        p1.id,
        Status.ENROUTE,
        "380501234567",
        "Shop",
    )
    assert view.done_at is None
    assert await store.message(other, p1.id) is None


async def test_a_refused_held_message_answers_its_final_status_not_enroute(
    store: Store,
) -> None:
    account = await funded(store)
    parts = [part(account, seq, total=2) for seq in (1, 2)]
    await store.hold_part(parts[0], NOW, 60)
    refused = RefusedMessage((parts[0],), "380501234567", "x", 69, NOW)
    assert await store.refuse_held(refused) is True
    assert await store.statuses(account, [parts[0].id]) == {parts[0].id: Status.REJECTD}
    view = await store.message(account, parts[0].id)
    assert view is not None and view.status == Status.REJECTD
