"""Per-message callbacks: the store queues one when a message with a callback URL turns final,
and the callback transport's pump POSTs it to a real local HTTP receiver, retrying a receiver
that fails (same message id each time), logging every attempt, and dead-lettering one that
refuses."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qsl

from store.builders import PRICE, new_message, request
from webhooks.receiver import Receiver

from smsgate.domain.status import PartState, Status
from smsgate.gateway.callbacks import CallbackTransport
from smsgate.gateway.outbox.outbox import Outbox
from smsgate.gateway.outbox.pump import OutboxPump, PumpPolicy
from smsgate.gateway.views import CALLBACKS, MessageCallback
from smsgate.store.memory import MemoryStore
from smsgate.store.records import NewOutboxItem, OperatorReceipt, SubmitDone, callback_payload
from smsgate.store.sql_store import SqlStore
from smsgate.webhooks.delivery_policy import RetryPolicy
from smsgate.webhooks.sender import HttpSender, SenderSettings

from .http_pumps import FAST, deliveries, grown, started, until

POLICY = PumpPolicy(interval=0.02, linger=0.0, retry_after=0.05, pipeline=4)


async def delivered_message(
    store: MemoryStore, url: str, *, state: PartState = PartState.DELIVRD, every: bool = False
) -> int:
    """An accepted message with a callback URL, taken by the operator and ended in `state`."""
    account = await store.create_account(f"shop{len(store.state.accounts)}")
    await store.top_up(account.id, 1000 * PRICE)
    now = time.time()  # the retry window runs from the final status, in wall-clock time
    message = new_message(account.id, now=now, callback=MessageCallback(url, "POST", every))
    await store.accept(request(account.id, message, now=now))
    (part,) = await store.claim_parts(1, now, 10, 30.0)
    await store.submitted([SubmitDone(part.part_id, "op", f"Q{part.part_id}", now)])
    await store.apply_receipts([OperatorReceipt("op", f"Q{part.part_id}", state, 7, now)])
    return message.id


def pump(store: MemoryStore, sender: HttpSender, policy: RetryPolicy = FAST) -> OutboxPump:
    return Outbox(store).pump(CallbackTransport(sender, policy), POLICY)


async def test_a_final_message_posts_its_callback_form_keeping_the_urls_query(
    receiver: Receiver, sender: HttpSender
) -> None:
    store = MemoryStore()
    message_id = await delivered_message(
        store, f"{receiver.base}/hook?order=17", state=PartState.UNDELIV
    )
    async with started(pump(store, sender)) as running:
        await until(lambda: receiver.received)
        await until(lambda: running.delivered == 1)
    (got,) = receiver.received
    assert (got.method, got.path, got.query) == ("POST", "/hook", [("order", "17")])
    form = dict(parse_qsl(got.body.decode()))
    assert form["id"] == str(message_id) and form["phone"] == "380501234567"
    assert (form["status"], form["err"], form["parts"]) == ("UNDELIV", "7", "1")
    assert form["done_at"].endswith("Z")
    assert await store.outbox_accounts(kind=CALLBACKS) == []


async def test_a_failing_receiver_gets_the_same_message_again_until_it_takes_it(
    receiver: Receiver, sender: HttpSender
) -> None:
    store = MemoryStore()
    message_id = await delivered_message(store, f"{receiver.base}/fail/3/dlr")
    before = deliveries(CALLBACKS)
    async with started(pump(store, sender)) as running:
        await until(lambda: running.delivered == 1)
    assert grown(before, deliveries(CALLBACKS)) == {"retrying": 3, "delivered": 1, "timed": 4}
    ids = [dict(parse_qsl(r.body.decode()))["id"] for r in receiver.received]
    assert ids == [str(message_id)] * 4
    (row,) = store.state.outbox.values()
    attempts = await store.outbox_attempts(row.id)
    assert [a.status for a in attempts] == [500, 500, 500, 200]
    assert all(a.error == "HTTP 500: nope" for a in attempts[:3]) and attempts[3].error is None
    assert all(a.latency >= 0 for a in attempts)
    assert row.delivered_at is not None and row.dead_at is None and row.attempts == 4


async def test_a_receiver_that_refuses_the_callback_makes_it_a_dead_letter(
    receiver: Receiver, sender: HttpSender
) -> None:
    store = MemoryStore()
    await delivered_message(store, f"{receiver.base}/missing")
    before = deliveries(CALLBACKS)
    async with started(pump(store, sender)) as running:
        await until(lambda: running.given_up == 1)
    assert grown(before, deliveries(CALLBACKS)) == {"dead_letter": 1, "timed": 1}
    (row,) = store.state.outbox.values()
    assert row.dead_at is not None and row.last_error == "HTTP 404: no such hook"
    assert [a.status for a in await store.outbox_attempts(row.id)] == [404]
    assert receiver.hits["/missing"] == 1  # a 4xx is not sent again


async def test_a_receiver_down_past_the_retry_window_makes_a_dead_letter(
    sender: HttpSender,
) -> None:
    store = MemoryStore()
    # Nothing listens on this port: every attempt fails to connect.
    await delivered_message(store, "http://127.0.0.1:9/down")
    short = RetryPolicy(first_delay=0.05, max_delay=0.05, jitter=0.0, retry_for=0.3)
    async with started(pump(store, sender, short)) as running:
        await until(lambda: running.given_up == 1)
    (row,) = store.state.outbox.values()
    assert row.last_error is not None and row.last_error.startswith("gave up after")
    attempts = await store.outbox_attempts(row.id)
    assert len(attempts) >= 2 and all(a.status is None for a in attempts)


async def test_every_status_asked_for_sends_enroute_then_the_final_one(
    receiver: Receiver, sender: HttpSender
) -> None:
    store = MemoryStore()
    await delivered_message(store, f"{receiver.base}/all", every=True)
    async with started(pump(store, sender)) as running:
        await until(lambda: running.delivered == 2)
    statuses = [dict(parse_qsl(r.body.decode()))["status"] for r in receiver.received]
    assert statuses == [Status.ENROUTE.value, Status.DELIVRD.value]
    enroute = dict(parse_qsl(receiver.received[0].body.decode(), keep_blank_values=True))
    assert enroute["done_at"] == ""


async def test_batches_in_flight_together_send_each_callback_once(
    receiver: Receiver, sender: HttpSender, tmp_path: Path
) -> None:
    # SQLite: its reads run in another thread, so a batch settles while a read is under way.
    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path}/pump.db")
    await store.open()
    try:
        await _each_once(store, receiver, sender)
    finally:
        await store.close()


async def _each_once(store: SqlStore, receiver: Receiver, sender: HttpSender) -> None:
    account = (await store.create_account("busy")).id
    now = time.time()
    await store.outbox_add(
        [
            NewOutboxItem(
                account, CALLBACKS, now, payload=callback_payload(f"{receiver.base}/n{i}", "POST")
            )
            for i in range(400)
        ]
    )
    policy = PumpPolicy(interval=0.02, linger=0.0, batch=25, pipeline=4)
    async with started(Outbox(store).pump(CallbackTransport(sender, FAST), policy)) as running:
        await until(lambda: running.delivered == 400)
    assert sorted(receiver.hits.values()) == [1] * 400
    assert await store.outbox_accounts(kind=CALLBACKS) == []


async def test_a_hanging_or_failing_url_does_not_delay_the_other_callbacks_of_its_batch(
    receiver: Receiver,
) -> None:
    # One account, three messages in order, one batch as the node reads them: a receiver that
    # never answers, one that fails, and a good one. The good one's callback arrives while the
    # first is still waiting for its answer: a batch's callbacks go out together.
    store = MemoryStore()
    account = (await store.create_account("mixed")).id
    now = time.time()
    await store.outbox_add(
        [
            NewOutboxItem(account, CALLBACKS, now, payload=callback_payload(url, "POST"))
            for url in (
                f"{receiver.base}/slow",
                f"{receiver.base}/fail/1000/down",
                f"{receiver.base}/fine",
            )
        ]
    )
    hanging = min(store.state.outbox)
    # The hanging receiver's attempt ends only at this total timeout, after the checks (the
    # pump's stop waits for it: a delivery in flight is let finish).
    async with (
        HttpSender(SenderSettings(allow_private=True, total_timeout=10.0)) as patient,
        started(Outbox(store).pump(CallbackTransport(patient, FAST), POLICY)),
    ):
        await until(lambda: receiver.hits["/fine"] == 1 and receiver.hits["/fail/1000/down"])
        assert receiver.hits["/slow"] == 1
        assert await store.outbox_attempts(hanging) == []  # still waiting for its answer
