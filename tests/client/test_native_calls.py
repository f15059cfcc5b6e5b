"""The native API's calls as data: which request each SDK method makes (method, path, query,
body), and the Idempotency-Key every send request carries and keeps across its retries."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from smsgate.client import native_calls as calls
from smsgate.client.native_models import Recipient
from smsgate.client.protocol import ApiRequest


def only(requests: object) -> ApiRequest:
    assert isinstance(requests, list | tuple) and len(requests) == 1
    request = requests[0]
    assert isinstance(request, ApiRequest)
    return request


def test_one_text_to_bare_phones_is_sent_as_to() -> None:
    request = only(calls.send_call(["380501234567", 380501234568], "Hi", "Shop").requests)
    assert (request.method, request.path) == ("POST", "/api/v1/messages")
    assert request.body == {"sender": "Shop", "text": "Hi", "to": ["380501234567", "380501234568"]}
    assert uuid.UUID(request.idempotency_key or "")


def test_recipients_with_texts_or_references_are_sent_as_recipients() -> None:
    at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    request = only(
        calls.send_call(
            [Recipient("1", "Own text", "r-1"), "2"],
            None,
            "Shop",
            send_at=at,
            valid_for=timedelta(hours=2),
            callback_url="https://example.com/dlr",
            callback_events="all",
        ).requests
    )
    assert request.body == {
        "sender": "Shop",
        "recipients": [{"to": "1", "text": "Own text", "client_ref": "r-1"}, {"to": "2"}],
        "send_at": "2026-12-07T09:30:00+00:00",
        "valid_for": 7200,
        "callback_url": "https://example.com/dlr",
        "callback_events": "all",
    }


def test_over_100_recipients_go_100_a_request_each_with_its_own_key() -> None:
    requests = calls.send_call([str(n) for n in range(250)], "Hi", "Shop").requests
    assert [len(r.body["to"]) for r in requests if r.body and isinstance(r.body["to"], list)] == [
        100,
        100,
        50,
    ]
    assert len({r.idempotency_key for r in requests}) == 3


def test_a_key_given_is_used_for_the_first_request_and_suffixed_for_the_next() -> None:
    requests = calls.send_call([str(n) for n in range(150)], "Hi", "Shop", idempotency_key="o-7")
    assert [r.idempotency_key for r in requests.requests] == ["o-7", "o-7:2"]


def test_the_same_call_repeats_its_keys_and_a_new_call_makes_new_ones() -> None:
    call = calls.send_call("1", "Hi", "Shop")
    again = calls.send_call("1", "Hi", "Shop")
    assert only(call.requests).idempotency_key == only(call.requests).idempotency_key
    assert only(call.requests).idempotency_key != only(again.requests).idempotency_key


def test_a_quote_has_the_send_body_and_no_key() -> None:
    request = only(calls.quote_call("1", "Hi", "Shop", valid_for=600).requests)
    assert (request.method, request.path, request.idempotency_key) == (
        "POST",
        "/api/v1/quote",
        None,
    )
    assert request.body == {"sender": "Shop", "text": "Hi", "to": ["1"], "valid_for": 600}


def test_reads_and_cancel_are_gets_and_a_delete() -> None:
    assert [
        (r.method, r.path)
        for c in (calls.message_call(7), calls.cancel_call("7"), calls.balance_call())
        for r in c.requests
    ] == [
        ("GET", "/api/v1/messages/7"),
        ("DELETE", "/api/v1/messages/7"),
        ("GET", "/api/v1/balance"),
    ]


def test_search_sends_only_the_filters_given_and_the_cursor() -> None:
    query = calls.search_query(status="delivrd", since=datetime(2026, 1, 2, tzinfo=UTC), limit=20)
    request = only(calls.search_call(query, "bTEy").requests)
    assert request.query == {
        "status": "DELIVRD",
        "since": "2026-01-02T00:00:00+00:00",
        "limit": "20",
        "cursor": "bTEy",
    }


def test_usage_events_and_inbound_queries() -> None:
    usage = only(calls.usage_call(date(2026, 12, 1), date(2026, 12, 7), "country").requests)
    events = only(calls.events_call(41, 10).requests)
    inbound = only(calls.inbound_call().requests)
    ledger = only(calls.ledger_call("c2").requests)
    assert (usage.path, usage.query) == (
        "/api/v1/usage",
        {"from": "2026-12-01", "to": "2026-12-07", "group": "country"},
    )
    assert (events.path, events.query) == ("/api/v1/events", {"after": "41", "limit": "10"})
    assert (inbound.path, inbound.query) == ("/api/v1/inbound", {"after": "0"})
    assert (ledger.path, ledger.query) == ("/api/v1/ledger", {"cursor": "c2"})


def test_webhook_endpoint_calls() -> None:
    made = [
        calls.webhooks_call(),
        calls.add_webhook_call("https://example.com/h", ["message.status"], "whsec_x"),
        calls.webhook_call(3),
        calls.webhook_call(3, "rotate-secret"),
        calls.remove_webhook_call(3),
        calls.failed_deliveries_call(10),
        calls.redeliver_call(["7"]),
    ]
    requests = [only(call.requests) for call in made]
    assert [(r.method, r.path, r.query, r.body) for r in requests] == [
        ("GET", "/api/v1/webhooks", None, None),
        (
            "POST",
            "/api/v1/webhooks",
            None,
            {"url": "https://example.com/h", "events": ["message.status"], "secret": "whsec_x"},
        ),
        ("GET", "/api/v1/webhooks/3", None, None),
        ("POST", "/api/v1/webhooks/3/rotate-secret", None, None),
        ("DELETE", "/api/v1/webhooks/3", None, None),
        ("GET", "/api/v1/webhooks/failed", {"limit": "10"}, None),
        ("POST", "/api/v1/webhooks/failed/redeliver", None, {"ids": ["7"]}),
    ]
