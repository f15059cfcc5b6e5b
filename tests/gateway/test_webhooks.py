"""Webhook endpoints: a message's final status is POSTed as a signed JSON event to each
endpoint of its account subscribed to `message.status`, and an inbound SMS to those subscribed
to `message.inbound`, verified here by the `standardwebhooks`
package (not our code); retried with the same `webhook-id` in order behind a failure; signed
with both secrets during a rotation; dead-lettered and redelivered; and an endpoint failing for
24 h is disabled and says why."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from store.builders import PRICE, new_message, request
from webhooks.receiver import Receiver

from smsgate.domain.status import PartState
from smsgate.gateway.inbound_intake import InboundIntake
from smsgate.gateway.outbox.outbox import Outbox
from smsgate.gateway.outbox.pump import OutboxPump, PumpPolicy
from smsgate.gateway.views import WEBHOOKS
from smsgate.gateway.webhooks import WebhookTransport
from smsgate.smpp.inbound_part import InboundPart
from smsgate.smpp.udh import Concat
from smsgate.store.memory import MemoryStore
from smsgate.store.records import (
    MESSAGE_INBOUND,
    MESSAGE_STATUS,
    NumberRoute,
    OperatorReceipt,
    SubmitDone,
    WebhookEndpoint,
)
from smsgate.webhooks.delivery_policy import DAY, RetryPolicy
from smsgate.webhooks.sender import HttpSender
from smsgate.webhooks.signing import new_secret

from .http_pumps import FAST, deliveries, grown, started, until

POLICY = PumpPolicy(interval=0.02, linger=0.0, retry_after=0.05)


async def account_with_endpoint(store: MemoryStore, url: str) -> tuple[int, WebhookEndpoint]:
    account = await store.create_account(f"shop{len(store.state.accounts)}")
    await store.top_up(account.id, 1000 * PRICE)
    endpoint = await store.add_webhook_endpoint(
        account.id, url, [MESSAGE_STATUS], new_secret().text, time.time()
    )
    return account.id, endpoint


async def final_message(store: MemoryStore, account: int, state: PartState) -> int:
    """An accepted message taken by the operator and ended in `state` (wall-clock times: the
    retry window runs from the event)."""
    now = time.time()
    message = new_message(account, now=now, text=f"hello {time.monotonic_ns()}")
    await store.accept(request(account, message, now=now))
    (part,) = await store.claim_parts(1, now, 10, 30.0)
    await store.submitted([SubmitDone(part.part_id, "op", f"W{part.part_id}", now)])
    await store.apply_receipts([OperatorReceipt("op", f"W{part.part_id}", state, 0, now)])
    return message.id


def pump(
    store: MemoryStore, sender: HttpSender, policy: RetryPolicy = FAST, **kw: object
) -> OutboxPump:
    return Outbox(store).pump(WebhookTransport(sender, store, policy, **kw), POLICY)  # type: ignore[arg-type]


def verified(secret: str, received: object) -> dict[str, object]:
    body = received.body  # type: ignore[attr-defined]
    headers = received.headers  # type: ignore[attr-defined]
    event: dict[str, object] = Webhook(secret).verify(body, headers)
    return event


async def test_a_final_status_arrives_signed_and_verifies_with_standardwebhooks(
    receiver: Receiver, sender: HttpSender
) -> None:
    store = MemoryStore()
    account, endpoint = await account_with_endpoint(store, f"{receiver.base}/hook")
    message_id = await final_message(store, account, PartState.DELIVRD)
    async with started(pump(store, sender)) as running:
        await until(lambda: running.delivered == 1)
    assert await store.outbox_pending(account, 10, kind=WEBHOOKS) == []
    (got,) = receiver.received
    assert got.method == "POST" and got.path == "/hook"
    assert got.headers["content-type"] == "application/json"
    event = verified(endpoint.secret, got)
    assert event["type"] == MESSAGE_STATUS
    data = event["data"]
    assert isinstance(data, dict)
    assert (data["id"], data["status"], data["error"]) == (str(message_id), "DELIVRD", 0)
    assert (data["to"], data["parts"], data["done_at"]) == ("380501234567", 1, event["timestamp"])
    assert str(event["timestamp"]).endswith("Z")
    assert got.headers["webhook-id"].startswith("msg_")
    with pytest.raises(WebhookVerificationError):
        verified(new_secret().text, got)  # another endpoint's secret does not verify it


async def test_a_failing_receiver_gets_the_same_webhook_id_and_later_events_wait_behind(
    receiver: Receiver, sender: HttpSender
) -> None:
    store = MemoryStore()
    account, endpoint = await account_with_endpoint(store, f"{receiver.base}/fail/2/hook")
    first = await final_message(store, account, PartState.DELIVRD)
    second = await final_message(store, account, PartState.UNDELIV)
    async with started(pump(store, sender)) as running:
        await until(lambda: running.delivered == 2)
    ids = [r.headers["webhook-id"] for r in receiver.received]
    events = [verified(endpoint.secret, r) for r in receiver.received]
    # Two 500s, then the first event, then the second: never the second before the first.
    assert ids[0] == ids[1] == ids[2] != ids[3]
    assert [e["data"]["id"] for e in events] == [str(first)] * 3 + [str(second)]  # type: ignore[index]
    (item_id,) = [r.id for r in store.state.outbox.values() if r.kind == WEBHOOKS][:1]
    attempts = await store.outbox_attempts(item_id)
    assert [a.status for a in attempts] == [500, 500, 200]
    assert attempts[0].error == "HTTP 500: nope" and attempts[0].latency > 0
    healed = await store.webhook_endpoint(endpoint.id)
    assert healed is not None and healed.failing_since is None and healed.enabled


async def test_during_a_rotation_both_secrets_verify(
    receiver: Receiver, sender: HttpSender
) -> None:
    store = MemoryStore()
    account, endpoint = await account_with_endpoint(store, f"{receiver.base}/hook")
    fresh = new_secret().text
    await store.set_webhook_secrets(endpoint.id, fresh, endpoint.secret)
    await final_message(store, account, PartState.DELIVRD)
    async with started(pump(store, sender)):
        await until(lambda: receiver.received)
    (got,) = receiver.received
    assert len(got.headers["webhook-signature"].split()) == 2
    assert verified(fresh, got) == verified(endpoint.secret, got)


async def test_a_dead_letter_is_redelivered_with_its_webhook_id(
    receiver: Receiver, sender: HttpSender
) -> None:
    store = MemoryStore()
    account, endpoint = await account_with_endpoint(store, f"{receiver.base}/fail/1/hook")
    await final_message(store, account, PartState.DELIVRD)
    # No time for retries: the first failure is a dead letter.
    no_retries = RetryPolicy(first_delay=0.05, max_delay=0.05, retry_for=0.001, jitter=0.0)
    before = deliveries(WEBHOOKS)
    async with started(pump(store, sender, no_retries)) as running:
        await until(lambda: running.given_up == 1)
        assert grown(before, deliveries(WEBHOOKS)) == {"dead_letter": 1, "timed": 1}
        (dead,) = await store.dead_letters(WEBHOOKS)
        assert dead.last_error is not None and "HTTP 500" in dead.last_error
        assert await store.redeliver(WEBHOOKS, [dead.item_id], time.time()) == [dead.item_id]
        running.wake()
        await until(lambda: running.delivered == 1)
    assert grown(before, deliveries(WEBHOOKS)) == {"dead_letter": 1, "delivered": 1, "timed": 2}
    first, again = receiver.received
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    assert verified(endpoint.secret, again)["type"] == MESSAGE_STATUS
    assert await store.dead_letters(WEBHOOKS) == []


async def test_an_endpoint_failing_for_a_day_is_disabled_and_says_why(
    receiver: Receiver, sender: HttpSender
) -> None:
    store = MemoryStore()
    account, endpoint = await account_with_endpoint(store, f"{receiver.base}/fail/99/hook")
    await final_message(store, account, PartState.DELIVRD)
    await final_message(store, account, PartState.DELIVRD)
    clock = [time.time()]
    transport = WebhookTransport(sender, store, RetryPolicy(), clock=lambda: clock[0])
    first, second = await store.outbox_pending(account, 10, kind=WEBHOOKS)

    outcomes = await transport.deliver(account, [first, second])
    retry, waiting = outcomes
    assert retry.retry_at is not None and not retry.dead  # type: ignore[union-attr]
    assert waiting is not retry and len(receiver.received) == 1  # the second waits behind
    failing = await store.webhook_endpoint(endpoint.id)
    assert failing is not None and failing.failing_since == clock[0] and failing.enabled
    assert failing.blocked_until == retry.retry_at  # type: ignore[union-attr]

    clock[0] += DAY + 1  # a day later it still fails
    retry_late, after = await transport.deliver(account, [first, second])
    disabled = await store.webhook_endpoint(endpoint.id)
    assert disabled is not None and not disabled.enabled
    assert disabled.disabled_reason is not None
    assert disabled.disabled_reason.startswith("failing for 24 h without a success")
    assert retry_late.dead and after.dead  # type: ignore[union-attr]
    assert "the endpoint is disabled" in (after.error or "")  # type: ignore[union-attr]
    # A disabled endpoint is sent nothing more: new events are not queued for it.
    await final_message(store, account, PartState.DELIVRD)
    assert [
        json.loads(i.payload or "")["endpoint"]
        for i in await store.outbox_pending(account, 10, kind=WEBHOOKS)
    ] == [endpoint.id, endpoint.id]  # only the two already queued


async def test_an_inbound_sms_reaches_the_accounts_message_inbound_endpoint_signed(
    receiver: Receiver, sender: HttpSender
) -> None:
    store = MemoryStore()
    account = (await store.create_account("shop")).id
    await store.add_number(NumberRoute("7000", account))
    inbound = await store.add_webhook_endpoint(
        account, f"{receiver.base}/mo", [MESSAGE_INBOUND], new_secret().text, time.time()
    )
    await store.add_webhook_endpoint(  # status only: sent nothing for an inbound SMS
        account, f"{receiver.base}/status", [MESSAGE_STATUS], new_secret().text, time.time()
    )
    intake = InboundIntake(store)
    parts = [b"Is my order ", b"ready?"]
    for seq, text in enumerate(parts, 1):
        answer = intake.take(
            "op", InboundPart("380501112233", 1, "7000", 0, text, Concat(9, 2, seq))
        )
        if not isinstance(answer, int):
            assert await asyncio.wait_for(answer, 10) == 0
    async with started(pump(store, sender)) as running:
        await until(lambda: running.delivered == 1)
    await intake.stop()
    (got,) = receiver.received
    assert got.path == "/mo"
    event = verified(inbound.secret, got)
    assert event["type"] == MESSAGE_INBOUND
    data = event["data"]
    assert isinstance(data, dict)
    (stored,) = await store.inbound_after(account, 0, 10)
    assert data["id"] == stored.id and data["text"] == "Is my order ready?"
    assert (data["from"], data["to"], data["parts"], data["complete"]) == (
        "380501112233",
        "7000",
        2,
        True,
    )
    (logged,) = await store.events(account, 0, 10)
    assert logged.type == "received"
