"""After accept: claims, submits, failures, expiry, cancel and receipts move parts forward,
settle their money once, fold into the message status and queue customer receipts."""

from __future__ import annotations

import asyncio
import json
import random
import time

import pytest

from smsgate.domain.status import PartState, Status
from smsgate.store.interface import Store
from smsgate.store.records import (
    CALLBACKS,
    RECEIPTS,
    MessageCallback,
    NewMessage,
    NewOutboxItem,
    OperatorReceipt,
    OutboxAttempt,
    SubmitDone,
    SubmitFailed,
)

from ..builders import NOW, PRICE, new_message, request
from .conftest import unmatched_receipts

TTL = 30.0


async def funded(store: Store, login: str = "shop", amount: int = 1000 * PRICE) -> int:
    account = await store.create_account(login)
    await store.top_up(account.id, amount)
    return account.id


async def accepted(store: Store, account: int, **kw: object) -> NewMessage:
    message = new_message(account, **kw)  # type: ignore[arg-type]
    result = await asyncio.wait_for(store.accept(request(account, message)), 10)
    assert result.outcomes[0].value == "accepted"
    return message


async def total(store: Store, account: int) -> int:
    b = await store.balance(account)
    return b.balance + b.reserved + b.charged


async def test_claim_moves_due_parts_to_sending_oldest_first(store: Store) -> None:
    account = await funded(store)
    first = await accepted(store, account, text="a", parts=2)
    second = await accepted(store, account, text="b")
    claimed = await store.claim_parts(7, NOW, 10, TTL)
    assert [c.part_id for c in claimed] == [p.id for p in (*first.parts, *second.parts)]
    assert claimed[0].phone == first.phone and claimed[0].payload == first.parts[0].payload
    assert claimed[0].attempts == 1 and claimed[0].total == 2
    assert await store.claim_parts(7, NOW, 10, TTL) == []
    assert await store.queue_depth() == 0


async def test_parts_awaiting_their_receipt_are_counted_by_connector(store: Store) -> None:
    account = await funded(store)
    await accepted(store, account, text="a", parts=2)
    await accepted(store, account, text="b")
    assert await store.awaiting_receipts() == {}
    first, second, third = await store.claim_parts(1, NOW, 10, TTL)
    assert await store.awaiting_receipts() == {}  # sending is not yet awaiting a receipt
    await store.submitted(
        [
            SubmitDone(first.part_id, "op", "W1", NOW),
            SubmitDone(second.part_id, "op", "W2", NOW),
            SubmitDone(third.part_id, "other", "W3", NOW),
        ]
    )
    assert await store.awaiting_receipts() == {"op": 2, "other": 1}
    await store.apply_receipts([OperatorReceipt("op", "W1", PartState.DELIVRD, 0, NOW + 1)])
    assert await store.awaiting_receipts() == {"op": 1, "other": 1}


async def test_claim_skips_parts_not_yet_due_and_expired_messages(store: Store) -> None:
    account = await funded(store)
    await accepted(store, account, text="short", lifetime=10)
    later = await accepted(store, account, text="later")
    await store.requeue([], NOW)
    assert [c.message_id for c in await store.claim_parts(1, NOW + 20, 10, TTL)] == [later.id]
    await store.requeue([later.parts[0].id], NOW + 100)
    assert await store.claim_parts(1, NOW + 50, 10, TTL) == []
    assert [c.part_id for c in await store.claim_parts(1, NOW + 100, 10, TTL)] == [
        later.parts[0].id
    ]


async def test_two_concurrent_claimers_never_get_the_same_part(
    store: Store, second_store: Store
) -> None:
    account = await funded(store)
    for i in range(60):
        await accepted(store, account, text=f"m{i}", parts=2)

    async def claim_all(s: Store, node: int) -> list[int]:
        got: list[int] = []
        while batch := await s.claim_parts(node, NOW, 7, TTL):
            got.extend(c.part_id for c in batch)
        return got

    runs = await asyncio.wait_for(
        asyncio.gather(
            claim_all(store, 1),
            claim_all(second_store, 2),
            claim_all(store, 3),
            claim_all(second_store, 4),
        ),
        60,
    )
    every = [p for run in runs for p in run]
    assert len(every) == 120
    assert len(set(every)) == 120


async def test_lapsed_claims_and_a_restarting_nodes_claims_return_to_the_queue(
    store: Store,
) -> None:
    account = await funded(store)
    await accepted(store, account, text="a")
    await accepted(store, account, text="b")
    await store.claim_parts(1, NOW, 1, TTL)
    await store.claim_parts(2, NOW + 10, 1, TTL)
    assert await store.release_claims(NOW + TTL + 1) == 1  # node 1's lapsed, node 2's not
    assert await store.release_claims(NOW + 11, node_id=2) == 1
    again = await store.claim_parts(3, NOW + 50, 10, TTL)
    assert len(again) == 2 and all(c.attempts == 2 for c in again)


async def test_submitted_charges_and_a_receipt_delivers(store: Store) -> None:
    account = await funded(store)
    message = await accepted(store, account)
    (part,) = await store.claim_parts(1, NOW, 10, TTL)
    await store.submitted([SubmitDone(part.part_id, "op", "X1", NOW + 1)])
    b = await store.balance(account)
    assert (b.reserved, b.charged) == (0, PRICE)
    assert await store.statuses(account, [message.id]) == {message.id: Status.ENROUTE}
    await store.apply_receipts([OperatorReceipt("op", "X1", PartState.DELIVRD, 0, NOW + 5)])
    view = await store.message(account, message.id)
    assert view is not None
    assert (view.status, view.done_at) == (Status.DELIVRD, NOW + 5)


async def test_receipt_before_submit_is_applied_when_the_submit_is_recorded(
    store: Store,
) -> None:
    account = await funded(store)
    message = await accepted(store, account)
    (part,) = await store.claim_parts(1, NOW, 10, TTL)
    await store.apply_receipts([OperatorReceipt("op", "EARLY", PartState.UNDELIV, 34, NOW + 1)])
    assert await store.statuses(account, [message.id]) == {message.id: Status.ENROUTE}
    await store.submitted([SubmitDone(part.part_id, "op", "EARLY", NOW + 2)])
    view = await store.message(account, message.id)
    assert view is not None and (view.status, view.error) == (Status.UNDELIV, 34)
    # An operator that accepted the part is paid even though it was not delivered.
    b = await store.balance(account)
    assert (b.reserved, b.charged) == (0, PRICE)


async def test_receipts_with_their_answers_are_applied_in_one_write(store: Store) -> None:
    """The answers go first: their receipts find the parts without being kept as unmatched;
    receipts of parts answered earlier find theirs in the store, in the same write."""
    account = await funded(store)
    a, b, c, d = [await accepted(store, account, text=t) for t in "abcd"]
    claimed = {p.message_id: p.part_id for p in await store.claim_parts(1, NOW, 10, TTL)}
    await store.submitted([SubmitDone(claimed[a.id], "op1", "X1", NOW + 1)])
    await store.submitted([SubmitDone(claimed[c.id], "op2", "X2", NOW + 1)])
    await store.apply_receipts(
        [
            OperatorReceipt("op1", "X1", PartState.DELIVRD, 0, NOW + 3),
            OperatorReceipt("op1", "X2", PartState.UNDELIV, 34, NOW + 3),
            OperatorReceipt("op2", "X2", PartState.DELIVRD, 0, NOW + 3),
            OperatorReceipt("op1", "LATER", PartState.DELIVRD, 0, NOW + 3),
        ],
        [SubmitDone(claimed[b.id], "op1", "X2", NOW + 2)],
    )
    assert await unmatched_receipts(store) == 1  # only LATER's: its answer was not along
    assert await store.statuses(account, [a.id, b.id, c.id, d.id]) == {
        a.id: Status.DELIVRD,
        b.id: Status.UNDELIV,
        c.id: Status.DELIVRD,
        d.id: Status.ENROUTE,
    }
    view = await store.message(account, b.id)
    assert view is not None and (view.error, view.done_at) == (34, NOW + 3)
    await store.submitted([SubmitDone(claimed[d.id], "op1", "LATER", NOW + 4)])
    assert await unmatched_receipts(store) == 0
    assert await store.statuses(account, [d.id]) == {d.id: Status.DELIVRD}
    balance = await store.balance(account)
    assert (balance.reserved, balance.charged) == (0, 4 * PRICE)


async def test_a_part_answered_in_the_write_is_not_loaded_again_by_its_old_operator_id(
    store: Store,
) -> None:
    """A second answer for a part (a stale resend's) gives it a new operator id in memory,
    while the store still has the old one: a receipt for the old id in the same write must not
    load a second copy of the part (two copies saved would settle its money twice)."""
    account = await funded(store)
    message = await accepted(store, account)
    (part,) = await store.claim_parts(1, NOW, 10, TTL)
    await store.submitted([SubmitDone(part.part_id, "op", "OLD", NOW + 1)])
    await store.apply_receipts(
        [
            OperatorReceipt("op", "NEW", PartState.DELIVRD, 0, NOW + 3),
            OperatorReceipt("op", "OLD", PartState.UNDELIV, 1, NOW + 3),
        ],
        [SubmitDone(part.part_id, "op", "NEW", NOW + 2)],
    )
    assert await unmatched_receipts(store) == 1  # OLD's: as if the answer had been written first
    view = await store.message(account, message.id)
    assert view is not None and (view.status, view.error) == (Status.DELIVRD, 0)
    balance = await store.balance(account)
    assert (balance.reserved, balance.charged) == (0, PRICE)


async def test_status_never_goes_backwards(store: Store) -> None:
    account = await funded(store)
    message = await accepted(store, account)
    (part,) = await store.claim_parts(1, NOW, 10, TTL)
    await store.submitted([SubmitDone(part.part_id, "op", "M1", NOW)])
    await store.apply_receipts(
        [
            OperatorReceipt("op", "M1", PartState.DELIVRD, 0, NOW + 1),
            OperatorReceipt("op", "M1", PartState.SUBMITTED, 0, NOW + 2),
            OperatorReceipt("op", "M1", PartState.UNDELIV, 1, NOW + 3),
        ]
    )
    await store.apply_receipts([OperatorReceipt("op", "M1", PartState.REJECTD, 2, NOW + 4)])
    await store.submitted([SubmitDone(part.part_id, "op", "M1", NOW + 5)])
    await store.requeue([part.part_id], NOW + 6)
    assert await store.statuses(account, [message.id]) == {message.id: Status.DELIVRD}
    assert await store.claim_parts(1, NOW + 10, 10, TTL) == []


async def test_multipart_status_is_the_fold_of_its_parts(store: Store) -> None:
    account = await funded(store)
    message = await accepted(store, account, parts=2)
    parts = await store.claim_parts(1, NOW, 10, TTL)
    await store.submitted([SubmitDone(p.part_id, "op", f"P{p.seq}", NOW) for p in parts])
    await store.apply_receipts([OperatorReceipt("op", "P1", PartState.DELIVRD, 0, NOW + 1)])
    assert await store.statuses(account, [message.id]) == {message.id: Status.ENROUTE}
    await store.apply_receipts([OperatorReceipt("op", "P2", PartState.UNDELIV, 5, NOW + 2)])
    assert await store.statuses(account, [message.id]) == {message.id: Status.UNDELIV}


async def test_failed_part_is_final_and_refunded(store: Store) -> None:
    account = await funded(store)
    message = await accepted(store, account, parts=2)
    parts = await store.claim_parts(1, NOW, 10, TTL)
    await store.failed([SubmitFailed(p.part_id, PartState.REJECTD, 0x45, NOW) for p in parts])
    view = await store.message(account, message.id)
    assert view is not None and (view.status, view.error) == (Status.REJECTD, 0x45)
    b = await store.balance(account)
    assert (b.balance, b.reserved, b.charged) == (1000 * PRICE, 0, 0)


async def test_expire_ends_queued_parts_past_their_lifetime_and_refunds(store: Store) -> None:
    account = await funded(store)
    short = await accepted(store, account, text="short", lifetime=60, parts=2)
    long = await accepted(store, account, text="long", lifetime=600)
    assert await store.expire(NOW + 30) == 0
    assert await store.expire(NOW + 61) == 2
    assert await store.statuses(account, [short.id, long.id]) == {
        short.id: Status.EXPIRED,
        long.id: Status.ENROUTE,
    }
    b = await store.balance(account)
    assert (b.balance, b.reserved) == (999 * PRICE, PRICE)


async def test_expire_sees_a_message_accepted_after_a_sweep_found_nothing(
    store: Store,
) -> None:
    """The sweep skips its scan while no queued part can have lapsed; whatever enters the
    queue later must bring that time forward (all within a minute, before a forced scan)."""
    account = await funded(store)
    await accepted(store, account, text="long", lifetime=6000)
    assert await store.expire(NOW + 1) == 0  # the queue lapses at NOW + 6000 at the earliest
    short = await accepted(store, account, text="short", lifetime=20)
    assert await store.expire(NOW + 21) == 1
    assert await store.statuses(account, [short.id]) == {short.id: Status.EXPIRED}


async def test_expire_sees_a_requeued_part_after_a_sweep_found_nothing(store: Store) -> None:
    account = await funded(store)
    retried = await accepted(store, account, text="retried", lifetime=30)
    claimed = await store.claim_parts(1, NOW, 10, TTL)
    assert await store.expire(NOW + 1) == 0  # nothing queued at all
    await store.requeue([c.part_id for c in claimed], NOW + 2)
    assert await store.expire(NOW + 31) == 1
    assert await store.statuses(account, [retried.id]) == {retried.id: Status.EXPIRED}


async def test_expire_sees_a_released_claim_after_a_sweep_found_nothing(store: Store) -> None:
    account = await funded(store)
    lost = await accepted(store, account, text="lost", lifetime=30)
    assert len(await store.claim_parts(9, NOW, 10, TTL)) == 1
    assert await store.expire(NOW + 1) == 0
    assert await store.release_claims(NOW + 2, node_id=9) == 1  # node 9 restarts
    assert await store.expire(NOW + 31) == 1
    assert await store.statuses(account, [lost.id]) == {lost.id: Status.EXPIRED}


async def test_cancel_refunds_a_message_that_has_not_left(store: Store) -> None:
    account = await funded(store)
    waiting = await accepted(store, account, text="wait")
    assert await store.cancel(account, waiting.id, NOW + 1) is True
    assert await store.cancel(account, waiting.id, NOW + 2) is False
    assert await store.statuses(account, [waiting.id]) == {waiting.id: Status.REJECTD}
    gone = await accepted(store, account, text="gone")
    await store.claim_parts(1, NOW, 10, TTL)
    assert await store.cancel(account, gone.id, NOW + 3) is False
    b = await store.balance(account)
    assert (b.balance, b.reserved) == (999 * PRICE, PRICE)


async def test_one_account_cannot_cancel_or_see_anothers_message(store: Store) -> None:
    owner, other = await funded(store, "owner"), await funded(store, "other")
    message = await accepted(store, owner, alias_ids=(7_000_001,))
    assert await store.statuses(other, [message.id, 7_000_001]) == {}
    assert await store.message(other, message.id) is None
    assert await store.cancel(other, message.id, NOW) is False
    assert await store.statuses(owner, [message.id]) == {message.id: Status.ENROUTE}


async def test_final_smpp_message_queues_one_customer_receipt_per_asking_id(
    store: Store,
) -> None:
    account = await funded(store)
    message = await accepted(
        store,
        account,
        door="smpp",
        parts=2,
        alias_ids=(8_000_002,),
        receipt_ids=(8_000_001, 8_000_002),
    )
    quiet = await accepted(store, account, text="quiet")
    parts = await store.claim_parts(1, NOW, 10, TTL)
    await store.submitted([SubmitDone(p.part_id, "op", f"Q{p.part_id}", NOW) for p in parts])
    assert await store.outbox_accounts() == []
    await store.apply_receipts(
        [OperatorReceipt("op", f"Q{p.part_id}", PartState.DELIVRD, 0, NOW + 1) for p in parts]
    )
    assert await store.outbox_accounts() == [account]
    items = await store.outbox_pending(account, 10)
    assert [(i.message_id, i.pdu_id, i.status) for i in items] == [
        (message.id, 8_000_001, Status.DELIVRD),
        (message.id, 8_000_002, Status.DELIVRD),
    ]
    assert items[0].text == message.text and items[0].parts == 2 and items[0].done_at == NOW + 1
    # Every field, as the pump builds its deliver_sm from them.
    first = items[0]
    assert (first.account_id, first.phone, first.sender, first.error, first.attempts) == (
        account,
        message.phone,
        message.sender,
        0,
        0,
    )
    assert first.submitted_at == message.created_at
    assert quiet.id not in {i.message_id for i in items}
    await store.outbox_done([items[0].id])
    assert [i.pdu_id for i in await store.outbox_pending(account, 10)] == [8_000_002]
    await store.outbox_done([items[1].id])
    assert await store.outbox_accounts() == []


@pytest.mark.parametrize("seed", range(4))
async def test_money_is_conserved_under_any_mix_of_outcomes(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    account = await funded(store, amount=40 * PRICE)
    start = await total(store, account)
    for i in range(25):
        await store.accept(
            request(account, new_message(account, text=f"m{i}", parts=rng.randint(1, 3)))
        )
    now = NOW
    for _round in range(6):
        now += 10
        claimed = await store.claim_parts(1, now, rng.randint(1, 12), TTL)
        done, failed, requeued = [], [], []
        for c in claimed:
            pick = rng.random()
            if pick < 0.5:
                done.append(SubmitDone(c.part_id, "op", f"o{c.part_id}", now))
            elif pick < 0.75:
                failed.append(SubmitFailed(c.part_id, PartState.REJECTD, 1, now))
            else:
                requeued.append(c.part_id)
        await store.submitted(done)
        await store.failed(failed)
        await store.requeue(requeued, now + rng.choice((0, 5)))
        await store.apply_receipts(
            [
                OperatorReceipt("op", f"o{d.part_id}", rng.choice(list(PartState)), 0, now)
                for d in done
                if rng.random() < 0.7
            ]
        )
        if rng.random() < 0.3:
            await store.cancel(account, rng.choice(range(1_000_000, 1_100_000)), now)
        assert await total(store, account) == start
    await store.expire(now + 10_000)
    b = await store.balance(account)
    assert b.balance + b.reserved + b.charged == start
    assert b.reserved >= 0 and b.balance >= 0


async def test_each_outbox_kind_is_read_on_its_own(store: Store) -> None:
    account = await funded(store)
    message = await accepted(store, account, door="smpp", receipt_ids=(8_000_001,))
    parts = await store.claim_parts(1, NOW, 10, TTL)
    await store.apply_receipts(
        [OperatorReceipt("op", "Q1", PartState.DELIVRD, 0, NOW + 1)],
        [SubmitDone(parts[0].part_id, "op", "Q1", NOW)],
    )
    await store.outbox_add(
        [
            NewOutboxItem(account, CALLBACKS, NOW + 2, message.id, Status.DELIVRD, 0, '{"a": 1}'),
            NewOutboxItem(account, "inbound", NOW + 3, payload='{"text": "hi"}'),
        ]
    )
    (receipt,) = await store.outbox_pending(account, 10)
    assert (receipt.kind, receipt.pdu_id, receipt.payload) == (RECEIPTS, 8_000_001, None)
    (callback,) = await store.outbox_pending(account, 10, kind=CALLBACKS)
    assert (callback.kind, callback.message_id, callback.status) == (
        CALLBACKS,
        message.id,
        Status.DELIVRD,
    )
    assert (callback.phone, callback.parts, callback.payload) == (message.phone, 1, '{"a": 1}')
    (inbound,) = await store.outbox_pending(account, 10, kind="inbound")
    # A row about no message: its message fields are empty, its payload says it all.
    assert (inbound.message_id, inbound.status, inbound.phone) == (0, None, "")
    assert inbound.payload == '{"text": "hi"}' and inbound.done_at == NOW + 3
    await store.outbox_done([callback.id])
    assert await store.outbox_accounts(kind=CALLBACKS) == []
    assert await store.outbox_accounts(kind="inbound") == [account]
    assert await store.outbox_accounts() == [account]


async def test_an_outbox_item_waits_until_it_is_due(store: Store) -> None:
    account = await funded(store)
    later = time.time() + 3600
    await store.outbox_add([NewOutboxItem(account, CALLBACKS, NOW, payload="{}", due_at=later)])
    assert await store.outbox_accounts(kind=CALLBACKS) == []
    assert await store.outbox_pending(account, 10, kind=CALLBACKS) == []
    past = time.time() - 1
    await store.outbox_add([NewOutboxItem(account, CALLBACKS, NOW, payload="{}", due_at=past)])
    assert len(await store.outbox_pending(account, 10, kind=CALLBACKS)) == 1


async def test_a_message_with_a_callback_queues_one_when_it_turns_final(store: Store) -> None:
    account = await funded(store)
    hook = MessageCallback("https://example.com/dlr?order=17", "GET")
    message = await accepted(store, account, parts=2, callback=hook)
    every = await accepted(
        store,
        account,
        text="every",
        callback=MessageCallback("https://e.com/all", every_status=True),
    )
    parts = await store.claim_parts(1, NOW, 10, TTL)
    await store.submitted([SubmitDone(p.part_id, "op", f"C{p.part_id}", NOW) for p in parts])
    # Only the message that asked for every status hears it is on its way.
    (enroute,) = await store.outbox_pending(account, 10, kind=CALLBACKS)
    assert (enroute.message_id, enroute.status) == (every.id, Status.ENROUTE)
    await store.outbox_done([enroute.id])
    await store.apply_receipts(
        [OperatorReceipt("op", f"C{p.part_id}", PartState.DELIVRD, 0, NOW + 1) for p in parts]
    )
    items = await store.outbox_pending(account, 10, kind=CALLBACKS)
    assert [(i.message_id, i.status) for i in items] == [
        (message.id, Status.DELIVRD),
        (every.id, Status.DELIVRD),
    ]
    first = items[0]
    assert json.loads(first.payload or "") == {"url": hook.url, "method": "GET"}
    assert (first.phone, first.parts, first.done_at) == (message.phone, 2, NOW + 1)
    assert await store.outbox_pending(account, 10) == []  # no SMPP receipts asked for


async def test_attempts_are_logged_and_settle_their_items(store: Store) -> None:
    account = await funded(store)
    await store.outbox_add(
        [NewOutboxItem(account, CALLBACKS, NOW, payload=str(n)) for n in range(3)]
    )
    ok, later, dead = await store.outbox_pending(account, 10, kind=CALLBACKS)
    retry_at = time.time() + 3600
    await store.outbox_attempted(
        [
            OutboxAttempt(ok.id, NOW, 200, 0.01),
            OutboxAttempt(later.id, NOW, 503, 0.02, "HTTP 503", retry_at),
            OutboxAttempt(dead.id, NOW, 404, 0.03, "HTTP 404", dead=True),
        ]
    )
    assert await store.outbox_pending(account, 10, kind=CALLBACKS) == []
    assert await store.outbox_attempts(later.id) == [
        OutboxAttempt(later.id, NOW, 503, 0.02, "HTTP 503")
    ]
    # A retry that is due again comes back with its attempt counted.
    await store.outbox_attempted(
        [OutboxAttempt(later.id, NOW + 1, None, 1.5, "timeout", time.time() - 1)]
    )
    (again,) = await store.outbox_pending(account, 10, kind=CALLBACKS)
    assert (again.id, again.attempts) == (later.id, 2)
    assert [a.status for a in await store.outbox_attempts(later.id)] == [503, None]
    # A settled item stays settled; its late attempt is still logged.
    await store.outbox_attempted([OutboxAttempt(dead.id, NOW + 2, 200, 0.01)])
    assert len(await store.outbox_attempts(dead.id)) == 2
    assert await store.outbox_pending(account, 10, kind=CALLBACKS) == [again]


async def test_a_dead_callback_names_its_message_and_is_redelivered_from_a_fresh_window(
    store: Store,
) -> None:
    account = await funded(store)
    message = await accepted(store, account, callback=MessageCallback("https://e.com/dlr"))
    (part,) = await store.claim_parts(1, NOW, 10, TTL)
    await store.submitted([SubmitDone(part.part_id, "op", "D1", NOW)])
    await store.apply_receipts([OperatorReceipt("op", "D1", PartState.UNDELIV, 7, NOW + 1)])
    (item,) = await store.outbox_pending(account, 10, kind=CALLBACKS)
    assert (item.done_at, item.queued_at) == (NOW + 1, NOW + 1)
    await store.outbox_attempted(
        [OutboxAttempt(item.id, NOW + 2, 500, 0.01, "HTTP 500", dead=True)]
    )
    (dead,) = await store.dead_letters(CALLBACKS)
    assert (dead.item_id, dead.message_id, dead.status) == (item.id, message.id, "UNDELIV")
    assert await store.redeliver(CALLBACKS, [item.id], NOW + 100) == [item.id]
    (copy,) = await store.outbox_pending(account, 10, kind=CALLBACKS)
    # The form keeps the message's done_at; its retries run from the redelivery.
    assert (copy.message_id, copy.status, copy.error) == (message.id, Status.UNDELIV, 7)
    assert (copy.done_at, copy.queued_at, copy.attempts) == (NOW + 1, NOW + 100, 0)


async def test_a_messages_callbacks_are_listed_with_their_outcome_for_its_account_only(
    store: Store,
) -> None:
    account = await funded(store)
    message = await accepted(store, account, callback=MessageCallback("https://e.com/dlr"))
    (part,) = await store.claim_parts(1, NOW, 10, TTL)
    await store.submitted([SubmitDone(part.part_id, "op", "D2", NOW)])
    await store.apply_receipts([OperatorReceipt("op", "D2", PartState.DELIVRD, 0, NOW + 1)])
    (waiting,) = await store.callback_deliveries(account, message.id)
    assert (waiting.status, waiting.delivered_at, waiting.dead_at) == ("DELIVRD", None, None)
    await store.outbox_attempted(
        [OutboxAttempt(waiting.item_id, NOW + 2, 410, 0.01, "HTTP 410", dead=True)]
    )
    (dead,) = await store.callback_deliveries(account, message.id)
    assert dead.dead_at is not None and dead.last_error == "HTTP 410"
    assert await store.redeliver(CALLBACKS, [dead.item_id], NOW + 100) == [dead.item_id]
    first, copy = await store.callback_deliveries(account, message.id)
    assert first.item_id == dead.item_id and copy.payload == first.payload
    assert (copy.delivered_at, copy.dead_at, copy.attempts) == (None, None, 0)
    other = await funded(store, "other-callbacks")
    assert await store.callback_deliveries(other, message.id) == []


@pytest.mark.parametrize(
    ("mask", "pushed"),
    [
        (1, []),  # delivered only: a failure is not pushed
        (2, ["UNDELIV"]),
        (8, ["ENROUTE"]),  # on its way only
        (19, ["UNDELIV"]),
        (31, ["ENROUTE", "UNDELIV"]),
    ],
)
async def test_a_callbacks_dlr_mask_says_which_statuses_are_pushed(
    store: Store, mask: int, pushed: list[str]
) -> None:
    account = await funded(store)
    hook = MessageCallback("https://e.com/dlr", "POST", bool(mask & 12), mask)
    await accepted(store, account, callback=hook)
    (part,) = await store.claim_parts(1, NOW, 10, TTL)
    await store.submitted([SubmitDone(part.part_id, "op", "M1", NOW)])
    await store.apply_receipts([OperatorReceipt("op", "M1", PartState.UNDELIV, 1, NOW + 1)])
    items = await store.outbox_pending(account, 10, kind=CALLBACKS)
    assert [i.status.value for i in items if i.status is not None] == pushed
