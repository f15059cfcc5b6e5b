"""Parts the operator took whose receipt does not come: listed for query_sm by connector and
age, and ended EXPIRED at their lifetime's end, charged, with the customer told."""

from __future__ import annotations

from smsgate.domain.status import PartState, Status
from smsgate.store.interface import Store
from smsgate.store.records import OperatorReceipt, SubmitDone

from ..builders import NOW, PRICE
from .test_progress import TTL, accepted, funded, total


async def test_unreceipted_lists_a_connectors_submitted_parts_by_age(store: Store) -> None:
    account = await funded(store)
    first = await accepted(store, account, text="first")
    second = await accepted(store, account, text="second")
    other = await accepted(store, account, text="other op")
    done = await accepted(store, account, text="reported")
    claimed = {c.message_id: c.part_id for c in await store.claim_parts(1, NOW, 10, TTL)}
    await store.submitted(
        [
            SubmitDone(claimed[second.id], "op", "S2", NOW + 2),
            SubmitDone(claimed[first.id], "op", "S1", NOW + 1),
            SubmitDone(claimed[other.id], "op2", "O1", NOW + 1),
            SubmitDone(claimed[done.id], "op", "D1", NOW + 1),
        ]
    )
    await store.apply_receipts([OperatorReceipt("op", "D1", PartState.DELIVRD, 0, NOW + 3)])

    found = await store.unreceipted("op", NOW - 1, NOW + 10, 10)
    assert [(u.part_id, u.operator_id, u.sender) for u in found] == [
        (claimed[first.id], "S1", "Shop"),
        (claimed[second.id], "S2", "Shop"),
    ]
    assert found[0].submitted_at == NOW + 1
    # The window is (after, before]; the limit keeps the oldest.
    assert [u.operator_id for u in await store.unreceipted("op", NOW + 1, NOW + 10, 10)] == ["S2"]
    assert [u.operator_id for u in await store.unreceipted("op", NOW - 1, NOW + 1, 10)] == ["S1"]
    assert [u.operator_id for u in await store.unreceipted("op", NOW - 1, NOW + 10, 1)] == ["S1"]
    assert await store.unreceipted("op", NOW - 1, NOW + 10, 0) == []


async def test_parts_whose_lifetime_ended_are_listed_by_connector_earliest_end_first(
    store: Store,
) -> None:
    account = await funded(store)
    later = await accepted(store, account, text="later", lifetime=120)
    sooner = await accepted(store, account, text="sooner", lifetime=60)
    other = await accepted(store, account, text="other op", lifetime=60)
    done = await accepted(store, account, text="reported", lifetime=60)
    claimed = {c.message_id: c.part_id for c in await store.claim_parts(1, NOW, 10, TTL)}
    await store.submitted(
        [
            SubmitDone(claimed[later.id], "op", "L1", NOW + 1),
            SubmitDone(claimed[sooner.id], "op", "S1", NOW + 2),
            SubmitDone(claimed[other.id], "op2", "O1", NOW + 1),
            SubmitDone(claimed[done.id], "op", "D1", NOW + 1),
        ]
    )
    await store.apply_receipts([OperatorReceipt("op", "D1", PartState.DELIVRD, 0, NOW + 3)])

    assert await store.unreceipted_ended("op", NOW + 60, 10) == []  # none has ended yet
    found = await store.unreceipted_ended("op", NOW + 61, 10)
    assert [(u.part_id, u.operator_id, u.sender) for u in found] == [
        (claimed[sooner.id], "S1", "Shop")
    ]
    assert found[0].submitted_at == NOW + 2
    ended = await store.unreceipted_ended("op", NOW + 200, 10)
    assert [u.operator_id for u in ended] == ["S1", "L1"]
    assert [u.operator_id for u in await store.unreceipted_ended("op", NOW + 200, 1)] == ["S1"]
    assert await store.unreceipted_ended("op", NOW + 200, 0) == []
    # Once expired, nothing is left to ask about.
    assert await store.expire_unreceipted(NOW + 200, NOW + 200) == 3
    assert await store.unreceipted_ended("op", NOW + 200, 10) == []


async def test_a_submitted_part_without_receipt_expires_at_its_lifetime_charged(
    store: Store,
) -> None:
    account = await funded(store)
    silent = await accepted(
        store, account, text="silent", lifetime=60, parts=2, receipt_ids=(9_100_001,)
    )
    longer = await accepted(store, account, text="longer", lifetime=600)
    claimed = await store.claim_parts(1, NOW, 10, TTL)
    await store.submitted([SubmitDone(c.part_id, "op", f"E{c.part_id}", NOW + 1) for c in claimed])
    before = await total(store, account)

    assert await store.expire_unreceipted(NOW + 60, NOW + 61) == 0  # the lifetime is not over
    assert await store.expire_unreceipted(NOW + 61, NOW + 62) == 2
    assert await store.statuses(account, [silent.id, longer.id]) == {
        silent.id: Status.EXPIRED,
        longer.id: Status.ENROUTE,
    }
    view = await store.message(account, silent.id)
    assert view is not None and view.done_at == NOW + 62
    # The operator took the parts: they stay charged, as after an EXPIRED receipt.
    b = await store.balance(account)
    assert (b.balance, b.reserved, b.charged) == (997 * PRICE, 0, 3 * PRICE)
    assert await total(store, account) == before
    # The customer is told as for any receipt.
    items = await store.outbox_pending(account, 10)
    assert [(i.message_id, i.pdu_id, i.status) for i in items] == [
        (silent.id, 9_100_001, Status.EXPIRED)
    ]
    # A receipt that comes later changes nothing, and nothing is listed for query_sm.
    late = claimed[0]
    await store.apply_receipts(
        [OperatorReceipt("op", f"E{late.part_id}", PartState.DELIVRD, 0, NOW + 70)]
    )
    assert await store.statuses(account, [silent.id]) == {silent.id: Status.EXPIRED}
    assert [u.part_id for u in await store.unreceipted("op", 0, NOW + 100, 10)] == [
        claimed[2].part_id
    ]
    assert await store.expire_unreceipted(NOW + 100, NOW + 100) == 0


async def test_expiry_of_unreceipted_parts_leaves_queued_and_reported_ones(store: Store) -> None:
    account = await funded(store)
    reported = await accepted(store, account, text="reported", lifetime=60)
    queued = await accepted(store, account, text="queued", lifetime=60)
    claimed = await store.claim_parts(1, NOW, 1, TTL)
    assert [c.message_id for c in claimed] == [reported.id]
    await store.submitted([SubmitDone(claimed[0].part_id, "op", "R1", NOW + 1)])
    await store.apply_receipts([OperatorReceipt("op", "R1", PartState.UNDELIV, 5, NOW + 2)])
    assert await store.expire_unreceipted(NOW + 100, NOW + 100) == 0
    assert await store.statuses(account, [reported.id, queued.id]) == {
        reported.id: Status.UNDELIV,
        queued.id: Status.ENROUTE,
    }
    # The queued one is the queue sweep's, refunded there.
    assert await store.expire(NOW + 100) == 1
    b = await store.balance(account)
    assert (b.balance, b.reserved, b.charged) == (999 * PRICE, 0, PRICE)


async def test_receipts_kept_unmatched_are_forgotten_once_old(store: Store) -> None:
    account = await funded(store)
    old = await accepted(store, account, text="old receipt")
    new = await accepted(store, account, text="new receipt")
    claimed = {c.message_id: c.part_id for c in await store.claim_parts(1, NOW, 10, TTL)}
    # Receipts for ids no part has yet: kept unmatched.
    await store.apply_receipts(
        [
            OperatorReceipt("op", "OLD", PartState.DELIVRD, 0, NOW + 1),
            OperatorReceipt("op", "NEW", PartState.DELIVRD, 0, NOW + 100),
            OperatorReceipt("op", "NEVER", PartState.DELIVRD, 0, NOW + 2),
        ]
    )
    assert await store.forget_unmatched(NOW + 50) == 2
    assert await store.forget_unmatched(NOW + 50) == 0
    # The answers come now: the forgotten receipt no longer ends its part, the kept one does.
    await store.submitted(
        [
            SubmitDone(claimed[old.id], "op", "OLD", NOW + 120),
            SubmitDone(claimed[new.id], "op", "NEW", NOW + 120),
        ]
    )
    assert await store.statuses(account, [old.id, new.id]) == {
        old.id: Status.ENROUTE,
        new.id: Status.DELIVRD,
    }
    assert await store.forget_unmatched(NOW + 1000) == 0  # matched receipts are gone already
