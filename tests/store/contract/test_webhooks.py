"""Webhook endpoints (configured, rotated, healed and disabled), the fan-out of a message's
final status to the endpoints subscribed to it, and dead letters sent again."""

from __future__ import annotations

import json
import time

from smsgate.domain.status import PartState
from smsgate.store.interface import Store
from smsgate.store.records import (
    CALLBACKS,
    MESSAGE_INBOUND,
    MESSAGE_STATUS,
    MESSAGE_STATUS_ALL,
    WEBHOOKS,
    EndpointHealth,
    NewOutboxItem,
    OperatorReceipt,
    OutboxAttempt,
    SubmitDone,
)

from ..builders import NOW
from .test_progress import TTL, accepted, funded

SECRET = "whsec_" + "A" * 43 + "="
OTHER = "whsec_" + "B" * 43 + "="


async def test_endpoints_are_added_listed_rotated_and_removed(store: Store) -> None:
    shop = await funded(store, "shop")
    other = await funded(store, "other")
    first = await store.add_webhook_endpoint(
        shop, "https://example.com/hook", [MESSAGE_STATUS], SECRET, NOW
    )
    second = await store.add_webhook_endpoint(
        other, "https://example.org/h", [MESSAGE_STATUS, MESSAGE_INBOUND], OTHER, NOW
    )
    assert (first.url, first.event_types, first.secret, first.old_secret) == (
        "https://example.com/hook",
        (MESSAGE_STATUS,),
        SECRET,
        None,
    )
    assert first.enabled and first.failing_since is None
    assert SECRET not in repr(first)
    assert await store.webhook_endpoints(shop) == [first]
    assert [e.id for e in await store.webhook_endpoints()] == [first.id, second.id]
    assert await store.webhook_endpoint(second.id) == second

    assert await store.set_webhook_secrets(first.id, OTHER, SECRET)
    rotated = await store.webhook_endpoint(first.id)
    assert rotated is not None and (rotated.secret, rotated.old_secret) == (OTHER, SECRET)

    assert await store.remove_webhook_endpoint(first.id)
    assert not await store.remove_webhook_endpoint(first.id)
    assert await store.webhook_endpoint(first.id) is None
    assert not await store.set_webhook_secrets(first.id, OTHER, None)


async def test_health_is_kept_and_disabling_says_why(store: Store) -> None:
    shop = await funded(store)
    endpoint = await store.add_webhook_endpoint(
        shop, "https://example.com/h", [MESSAGE_STATUS], SECRET, NOW
    )
    health = EndpointHealth(NOW, NOW + 86400, "failing for 24 h without a success", None)
    assert await store.set_webhook_health(endpoint.id, health)
    seen = await store.webhook_endpoint(endpoint.id)
    assert seen is not None and not seen.enabled
    assert (seen.failing_since, seen.disabled_at, seen.disabled_reason) == (
        NOW,
        NOW + 86400,
        "failing for 24 h without a success",
    )
    assert await store.set_webhook_health(endpoint.id, EndpointHealth(None, None, None, None))
    healed = await store.webhook_endpoint(endpoint.id)
    assert healed is not None and healed.enabled and healed.failing_since is None


async def test_a_final_status_is_queued_once_per_subscribed_enabled_endpoint(
    store: Store,
) -> None:
    shop = await funded(store, "shop")
    other = await funded(store, "other")
    wants = await store.add_webhook_endpoint(
        shop, "https://a.example/h", [MESSAGE_STATUS], SECRET, NOW
    )
    await store.add_webhook_endpoint(shop, "https://b.example/h", [MESSAGE_INBOUND], SECRET, NOW)
    disabled = await store.add_webhook_endpoint(
        shop, "https://c.example/h", [MESSAGE_STATUS], SECRET, NOW
    )
    await store.set_webhook_health(disabled.id, EndpointHealth(NOW, NOW, "gone", None))
    await store.add_webhook_endpoint(other, "https://d.example/h", [MESSAGE_STATUS], SECRET, NOW)
    message = await accepted(store, shop, client_ref="order-17")
    (part,) = await store.claim_parts(1, NOW, 10, TTL)
    await store.submitted([SubmitDone(part.part_id, "op", "C1", NOW)])
    assert await store.outbox_pending(shop, 10, kind=WEBHOOKS) == []  # not final yet
    await store.apply_receipts([OperatorReceipt("op", "C1", PartState.DELIVRD, 0, NOW + 1)])

    (item,) = await store.outbox_pending(shop, 10, kind=WEBHOOKS)
    assert (item.kind, item.message_id, item.done_at) == (WEBHOOKS, 0, NOW + 1)
    payload = json.loads(item.payload or "")
    assert payload["endpoint"] == wants.id and payload["type"] == MESSAGE_STATUS
    assert payload["id"].startswith("msg_")
    # What the receiver needs to act on it without asking back, as the native API names it.
    assert payload["data"] == {
        "id": str(message.id),
        "to": message.phone,
        "sender": "Shop",
        "client_ref": "order-17",
        "status": "DELIVRD",
        "error": 0,
        "parts": 1,
        "done_at": payload["timestamp"],
    }
    assert payload["timestamp"].endswith("Z")
    assert await store.outbox_accounts(kind=WEBHOOKS) == [shop]
    assert await store.outbox_pending(shop, 10, kind=CALLBACKS) == []


async def test_a_dead_letter_is_listed_and_redelivered_with_the_same_payload(
    store: Store,
) -> None:
    shop = await funded(store)
    await store.outbox_add(
        [NewOutboxItem(shop, WEBHOOKS, NOW, payload=f'{{"n":{n}}}') for n in range(2)]
    )
    first, second = await store.outbox_pending(shop, 10, kind=WEBHOOKS)
    now = time.time()
    await store.outbox_attempted(
        [
            OutboxAttempt(first.id, now, 500, 0.01, "HTTP 500", dead=True),
            OutboxAttempt(second.id, now, 204, 0.01),
        ]
    )
    (dead,) = await store.dead_letters(WEBHOOKS)
    assert (dead.item_id, dead.account_id, dead.payload) == (first.id, shop, '{"n":0}')
    assert (dead.attempts, dead.last_error, dead.dead_at) == (1, "HTTP 500", now)
    assert await store.dead_letters(WEBHOOKS, account_id=shop + 1000) == []
    assert await store.dead_letters(CALLBACKS) == []

    assert await store.redeliver(WEBHOOKS, [first.id, second.id], now) == [first.id]
    assert await store.dead_letters(WEBHOOKS) == []
    (again,) = await store.outbox_pending(shop, 10, kind=WEBHOOKS)
    assert again.id != first.id and again.payload == '{"n":0}'
    assert await store.redeliver(WEBHOOKS, [first.id], now) == []


async def test_every_change_goes_to_endpoints_subscribed_to_message_status_all(
    store: Store,
) -> None:
    shop = await funded(store, "shop")
    final = await store.add_webhook_endpoint(
        shop, "https://a.example/h", [MESSAGE_STATUS], SECRET, NOW
    )
    every = await store.add_webhook_endpoint(
        shop, "https://b.example/h", [MESSAGE_STATUS_ALL], SECRET, NOW
    )
    both = await store.add_webhook_endpoint(
        shop, "https://c.example/h", [MESSAGE_STATUS, MESSAGE_STATUS_ALL], SECRET, NOW
    )
    message = await accepted(store, shop)
    (part,) = await store.claim_parts(1, NOW, 10, TTL)
    await store.submitted([SubmitDone(part.part_id, "op", "E1", NOW)])
    await store.apply_receipts([OperatorReceipt("op", "E1", PartState.UNDELIV, 34, NOW + 1)])
    sent = [
        json.loads(i.payload or "") for i in await store.outbox_pending(shop, 10, kind=WEBHOOKS)
    ]
    assert all(p["type"] == MESSAGE_STATUS for p in sent)
    assert all(p["data"]["id"] == str(message.id) for p in sent)
    assert [(p["endpoint"], p["data"]["status"], p["data"]["error"]) for p in sent] == [
        (every.id, "ENROUTE", 0),
        (both.id, "ENROUTE", 0),
        (final.id, "UNDELIV", 34),
        (every.id, "UNDELIV", 34),
        (both.id, "UNDELIV", 34),
    ]
    # On its way it has no done_at yet; once final it has.
    assert [p["data"]["done_at"] is None for p in sent] == [True, True, False, False, False]
    assert all((p["data"]["to"], p["data"]["parts"]) == (message.phone, 1) for p in sent)
