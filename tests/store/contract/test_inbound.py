"""Inbound SMS in the store, on every implementation: numbers belong to one account each (per
keyword), inbound messages are kept routed or unroutable with growing ids, and an opt-out or
opt-in stored with its message changes the account's suppression list at once."""

from __future__ import annotations

import json

import pytest

from smsgate.store.interface import Store, StoreError
from smsgate.store.records import (
    INBOUND,
    MESSAGE_INBOUND,
    MESSAGE_STATUS,
    WEBHOOKS,
    KeptInboundPart,
    NewInbound,
    NumberRoute,
)


def _mo(text: str, account_id: int | None, **extra: object) -> NewInbound:
    fields: dict[str, object] = {
        "source": "380501112233",
        "destination": "7000",
        "text": text,
        "data_coding": 0,
        "parts": 1,
        "total": 1,
        "connector": "op",
        "received_at": 100.0,
        "account_id": account_id,
    }
    fields.update(extra)
    return NewInbound(**fields)  # type: ignore[arg-type]


async def test_a_number_and_keyword_belong_to_one_account(store: Store) -> None:
    a = await store.create_account("a")
    b = await store.create_account("b")
    await store.add_number(NumberRoute("7000", a.id))
    await store.add_number(NumberRoute("7000", b.id, "shop"))
    await store.add_number(NumberRoute("7000", a.id))  # again: no change
    with pytest.raises(StoreError, match="already belongs"):
        await store.add_number(NumberRoute("7000", b.id))
    with pytest.raises(StoreError, match="unknown account"):
        await store.add_number(NumberRoute("7001", 999_999))
    assert await store.number_routes() == [
        NumberRoute("7000", a.id, ""),
        NumberRoute("7000", b.id, "shop"),
    ]
    assert await store.remove_number("7000", "shop")
    assert not await store.remove_number("7000", "shop")
    assert await store.number_routes() == [NumberRoute("7000", a.id, "")]


async def test_inbound_messages_are_read_per_account_after_an_id(store: Store) -> None:
    a = await store.create_account("a")
    b = await store.create_account("b")
    ids = await store.store_inbound(
        [
            _mo("one", a.id),
            _mo("lost", None, reason="number 7000 belongs to no account"),
            _mo("two", a.id, parts=1, total=2),
            _mo("other", b.id),
        ]
    )
    assert ids == sorted(ids) and len(set(ids)) == 4
    mine = await store.inbound_after(a.id, 0, 10)
    assert [m.text for m in mine] == ["one", "two"]
    assert mine[0].complete and not mine[1].complete
    assert [m.text for m in await store.inbound_after(a.id, mine[0].id, 10)] == ["two"]
    assert [m.text for m in await store.inbound_after(a.id, 0, 1)] == ["one"]
    lost = await store.unroutable(0, 10)
    assert [(m.text, m.account_id, m.reason) for m in lost] == [
        ("lost", None, "number 7000 belongs to no account")
    ]


async def test_an_opt_out_and_opt_in_change_the_list_with_their_message(store: Store) -> None:
    a = await store.create_account("a")
    await store.store_inbound([_mo("STOP", a.id, opt="out")])
    listed = await store.suppressions(a.id)
    assert [(s.phone, s.source) for s in listed] == [("380501112233", "sms")]
    await store.store_inbound([_mo("STOP", a.id, opt="out")])  # twice: still one entry
    assert len(await store.suppressions(a.id)) == 1
    await store.store_inbound([_mo("START", a.id, opt="in")])
    assert await store.suppressions(a.id) == []
    assert [m.text for m in await store.inbound_after(a.id, 0, 10)] == ["STOP", "STOP", "START"]


async def test_the_admin_manages_the_suppression_list(store: Store) -> None:
    a = await store.create_account("a")
    b = await store.create_account("b")
    assert await store.suppress(a.id, "380671234567", "admin", 5.0)
    assert not await store.suppress(a.id, "380671234567", "admin", 6.0)
    assert await store.suppressions(b.id) == []
    [entry] = await store.suppressions(a.id)
    assert (entry.phone, entry.source, entry.created_at) == ("380671234567", "admin", 5.0)
    assert await store.unsuppress(a.id, "380671234567")
    assert not await store.unsuppress(a.id, "380671234567")
    with pytest.raises(StoreError, match="unknown account"):
        await store.suppress(999_999, "380671234567", "admin", 5.0)


async def test_a_routed_message_queues_an_inbound_outbox_item_with_it(store: Store) -> None:
    a = await store.create_account("a")
    [routed, _] = await store.store_inbound(
        [_mo("Привіт", a.id, parts=1, total=2), _mo("lost", None, reason="no account")]
    )
    assert await store.outbox_accounts(kind=INBOUND) == [a.id]
    [item] = await store.outbox_pending(a.id, 10, kind=INBOUND)
    assert item.kind == INBOUND and item.message_id == 0
    assert json.loads(item.payload or "") == {
        "id": routed,
        "from": "380501112233",
        "to": "7000",
        "text": "Привіт",
        "complete": False,
    }
    assert await store.outbox_pending(a.id, 10) == []  # not a receipt
    await store.outbox_done([item.id])
    assert await store.outbox_accounts(kind=INBOUND) == []


async def test_a_routed_message_is_logged_and_queued_for_its_inbound_webhooks(
    store: Store,
) -> None:
    a = await store.create_account("a")
    secret = "whsec_" + "A" * 43 + "="
    wants = await store.add_webhook_endpoint(
        a.id, "https://a.example/h", [MESSAGE_INBOUND], secret, 1.0
    )
    await store.add_webhook_endpoint(a.id, "https://b.example/h", [MESSAGE_STATUS], secret, 1.0)
    [routed, _] = await store.store_inbound(
        [_mo("Hi", a.id, keyword="shop"), _mo("lost", None, reason="no account")]
    )
    (event,) = await store.events(a.id, 0, 10)
    assert (event.seq, event.type, event.at, event.message_id) == (1, "received", 100.0, None)
    assert json.loads(event.data or "") == {
        "inbound_id": routed,
        "from": "380501112233",
        "to": "7000",
        "complete": True,
    }
    (item,) = await store.outbox_pending(a.id, 10, kind=WEBHOOKS)
    payload = json.loads(item.payload or "")
    assert (payload["endpoint"], payload["type"]) == (wants.id, MESSAGE_INBOUND)
    assert payload["id"].startswith("msg_") and payload["timestamp"].endswith("Z")
    assert payload["data"] == {
        "id": routed,
        "from": "380501112233",
        "to": "7000",
        "text": "Hi",
        "keyword": "shop",
        "parts": 1,
        "total": 1,
        "complete": True,
        "received_at": 100.0,
    }
    assert item.done_at == 100.0  # its retry window runs from its arrival


def _kept(seq: int, node_id: int = 1, ref: int = 9) -> KeptInboundPart:
    return KeptInboundPart(
        0, node_id, "op", "380501112233", 1, "7000", ref, 2, seq, False, 0, b"part", 100.0 + seq
    )


async def test_kept_parts_are_listed_per_node_once_and_released_with_their_message(
    store: Store,
) -> None:
    a = await store.create_account("a")
    first = await store.keep_inbound_part(_kept(1))
    assert first is not None
    assert await store.keep_inbound_part(_kept(1)) is None  # a copy: kept once
    other = await store.keep_inbound_part(_kept(1, node_id=2))
    unrelated = await store.keep_inbound_part(_kept(1, ref=10))
    kept = await store.kept_inbound_parts(1)
    assert [(p.id, p.ref, p.seq, p.payload, p.received_at) for p in kept] == [
        (first, 9, 1, b"part", 101.0),
        (unrelated, 10, 1, b"part", 101.0),
    ]
    assert [p.id for p in await store.kept_inbound_parts(2)] == [other]
    await store.store_inbound([_mo("partpart", a.id, parts=2, total=2)], release=[first])
    assert [p.id for p in await store.kept_inbound_parts(1)] == [unrelated]
    assert [m.text for m in await store.inbound_after(a.id, 0, 10)] == ["partpart"]
    # Released, the part may come again as a new message's (the reference is reused).
    assert await store.keep_inbound_part(_kept(1)) is not None


async def test_a_message_that_cannot_be_stored_keeps_its_parts(store: Store) -> None:
    kept = await store.keep_inbound_part(_kept(1))
    assert kept is not None
    with pytest.raises(StoreError):
        await store.store_inbound([_mo("x", 999_999)], release=[kept])
    assert [p.id for p in await store.kept_inbound_parts(1)] == [kept]
