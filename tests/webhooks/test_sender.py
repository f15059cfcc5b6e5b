"""The HTTP sender against a real local receiver: callbacks, signed webhooks, a receiver that
fails N times, a slow one, a huge answer, a redirect, keep-alive, a full pool, proxies."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qsl

import pytest
from standardwebhooks.webhooks import Webhook

from smsgate.webhooks.attempt import Attempt, Failure, OutgoingRequest
from smsgate.webhooks.callback_form import CallbackFields, callback_request
from smsgate.webhooks.delivery_policy import (
    DeadLetter,
    Delivered,
    RetryAt,
    RetryPolicy,
    next_step,
)
from smsgate.webhooks.sender import HttpSender, SenderSettings
from smsgate.webhooks.signing import new_secret, signature_headers

from .receiver import running_receiver

LOCAL = SenderSettings(allow_private=True, total_timeout=2.0, max_response_bytes=1024)
FIELDS = CallbackFields("m1", "380501234567", "DELIVRD", "000", 1, None)


async def test_callback_form_arrives_with_the_urls_own_query() -> None:
    async with running_receiver() as rx, HttpSender(LOCAL) as sender:
        attempt = await sender.send(callback_request(f"{rx.base}/dlr?order=17", FIELDS))
    assert attempt.succeeded and attempt.status == 204 and attempt.error is None
    assert attempt.latency > 0
    (got,) = rx.received
    assert (got.method, got.path, got.query) == ("POST", "/dlr", [("order", "17")])
    assert dict(parse_qsl(got.body.decode(), keep_blank_values=True))["status"] == "DELIVRD"
    assert got.headers["content-type"].startswith("application/x-www-form-urlencoded")


async def test_get_callback_arrives_in_the_query() -> None:
    async with running_receiver() as rx, HttpSender(LOCAL) as sender:
        await sender.send(callback_request(f"{rx.base}/dlr?order=17", FIELDS, "GET"))
    (got,) = rx.received
    assert got.method == "GET" and got.body == b""
    assert got.query[:3] == [("order", "17"), ("id", "m1"), ("phone", "380501234567")]


async def test_signed_webhook_verifies_at_the_receiver_with_standardwebhooks() -> None:
    secret = new_secret()
    body = json.dumps({"type": "message.status", "data": {"id": "m1"}}).encode()
    headers = signature_headers([secret], "evt_1", int(time.time()), body)
    request = OutgoingRequest(
        "POST", "", (*headers.items(), ("content-type", "application/json")), body
    )
    async with running_receiver() as rx, HttpSender(LOCAL) as sender:
        attempt = await sender.send(
            OutgoingRequest(request.method, f"{rx.base}/hook", request.headers, request.body)
        )
    assert attempt.succeeded
    (got,) = rx.received
    assert Webhook(secret.text).verify(got.body, got.headers) == {
        "type": "message.status",
        "data": {"id": "m1"},
    }


async def test_a_receiver_failing_twice_gets_it_on_the_third_attempt() -> None:
    policy, t0, now, failures = RetryPolicy(), 1_800_000_000.0, 1_800_000_000.0, 0
    request = callback_request("", FIELDS)
    steps: list[object] = []
    async with running_receiver() as rx, HttpSender(LOCAL) as sender:
        url = f"{rx.base}/fail/2/m1"
        while True:
            attempt = await sender.send(OutgoingRequest("POST", url, request.headers, request.body))
            failures += 0 if attempt.succeeded else 1
            step = next_step(
                policy,
                attempt,
                first_attempt_at=t0,
                failed_attempts=failures,
                now=now,
                rand=lambda: 0.0,
            )
            steps.append(step)
            if not isinstance(step, RetryAt):
                break
            now = step.at  # the policy's clock, not ours: no sleeping in the test
    assert steps == [
        RetryAt(t0 + 5, "HTTP 500: nope"),
        RetryAt(t0 + 15, "HTTP 500: nope"),
        Delivered(),
    ]
    assert len(rx.received) == 3
    assert len({r.body for r in rx.received}) == 1  # the same request each time


async def test_a_slow_receiver_times_out_within_the_total_limit() -> None:
    settings = SenderSettings(allow_private=True, total_timeout=0.3)
    async with running_receiver() as rx, HttpSender(settings) as sender:
        attempt = await sender.send(OutgoingRequest("POST", f"{rx.base}/slow"))
    assert attempt.status is None and attempt.failure is Failure.TIMEOUT
    assert attempt.error == "no answer in time (limit 0.3 s)"
    assert 0.25 <= attempt.latency < 2.0


async def test_a_huge_answer_is_capped_and_not_read_to_the_end() -> None:
    async with running_receiver() as rx, HttpSender(LOCAL) as sender:
        attempt = await sender.send(OutgoingRequest("POST", f"{rx.base}/huge"))
        # The capped connection is dropped, not reused: the next send opens a fresh one.
        assert (await sender.send(OutgoingRequest("POST", f"{rx.base}/ok"))).succeeded
    assert attempt.status == 200 and attempt.succeeded
    assert attempt.truncated and attempt.body == b"x" * 1024
    assert rx.connections == 2


async def test_a_redirect_is_not_followed() -> None:
    async with running_receiver() as rx, HttpSender(LOCAL) as sender:
        attempt = await sender.send(OutgoingRequest("POST", f"{rx.base}/redirect"))
    assert attempt.status == 302
    assert attempt.error == "HTTP 302: redirect to /ok not followed; configure the final URL"
    assert [r.path for r in rx.received] == ["/redirect"]
    step = next_step(
        RetryPolicy(), attempt, first_attempt_at=0, failed_attempts=1, now=0, rand=lambda: 0.0
    )
    assert isinstance(step, DeadLetter)


async def test_429_carries_its_retry_after() -> None:
    async with running_receiver() as rx, HttpSender(LOCAL) as sender:
        attempt = await sender.send(OutgoingRequest("POST", f"{rx.base}/busy"))
    assert (attempt.status, attempt.retry_after, attempt.error) == (429, "7", "HTTP 429: slow down")


async def test_a_closed_port_is_a_connect_failure() -> None:
    async with running_receiver() as rx:
        closed = rx.base
    async with HttpSender(LOCAL) as sender:
        attempt = await sender.send(OutgoingRequest("POST", f"{closed}/ok"))
    assert attempt.failure is Failure.CONNECT and attempt.status is None


async def test_loopback_is_refused_unless_the_setting_allows_it() -> None:
    async def to_loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async with running_receiver() as rx, HttpSender(resolver=to_loopback) as sender:
        literal = await sender.send(OutgoingRequest("POST", f"{rx.base}/ok"))
        by_name = await sender.send(OutgoingRequest("POST", f"http://hooks.test:{rx.port}/ok"))
    assert literal.failure is Failure.URL_REFUSED and by_name.failure is Failure.URL_REFUSED
    assert literal.error == "URL points at 127.0.0.1, a loopback address"
    assert by_name.error == "hooks.test resolves to 127.0.0.1, a loopback address"
    assert rx.received == []


async def test_sends_reuse_one_kept_alive_connection() -> None:
    async with running_receiver() as rx, HttpSender(LOCAL) as sender:
        for _ in range(20):
            assert (await sender.send(callback_request(f"{rx.base}/ok", FIELDS))).succeeded
    assert rx.connections == 1 and len(rx.received) == 20


@pytest.mark.parametrize("url", ["ftp://x.example/", "http://" + "a" * 2000 + ".example/"])
async def test_a_bad_url_is_refused_without_a_connection(url: str) -> None:
    async with HttpSender(LOCAL) as sender:
        attempt: Attempt = await sender.send(OutgoingRequest("POST", url))
    assert attempt.failure is Failure.URL_REFUSED


async def test_waiting_for_a_busy_pool_does_not_count_against_the_endpoints_time() -> None:
    # One connection, three sends to a receiver taking 0.4 s each: the last one waits 0.8 s
    # for the connection, longer than the 0.7 s limit, and still succeeds in its own 0.4 s.
    settings = SenderSettings(allow_private=True, total_timeout=0.7, max_connections=1)
    async with running_receiver() as rx, HttpSender(settings) as sender:
        began = time.perf_counter()
        attempts = await asyncio.gather(
            *(sender.send(OutgoingRequest("POST", f"{rx.base}/pause")) for _ in range(3))
        )
        took = time.perf_counter() - began
    assert [a.status for a in attempts] == [204] * 3
    assert took >= 1.2 and all(a.latency < 0.7 for a in attempts)
    assert rx.connections == 1


async def test_one_receiver_gets_at_most_max_per_receiver_sends_at_once() -> None:
    # Ten callbacks at once to a receiver taking 0.4 s each: three connections, never more,
    # each carrying its turn's callbacks one after another. The last wait 1.2 s for their
    # turn, longer than the limit, and none times out: the wait is not the receiver's time.
    settings = SenderSettings(allow_private=True, total_timeout=1.1, max_per_receiver=3)
    async with running_receiver() as rx, HttpSender(settings) as sender:
        attempts = await asyncio.gather(
            *(sender.send(OutgoingRequest("POST", f"{rx.base}/pause")) for _ in range(10))
        )
    assert [a.status for a in attempts] == [204] * 10
    assert rx.connections == 3


async def test_send_many_answers_each_request_in_its_place_within_the_per_receiver_cap() -> None:
    # Eight to a receiver taking 0.4 s each (three turns), one refused URL and one failing
    # receiver path in between: every request gets its own answer at its own index, the
    # refused one without a connection, and the slow receiver never sees more than three.
    settings = SenderSettings(allow_private=True, total_timeout=1.1, max_per_receiver=3)
    async with running_receiver() as rx, HttpSender(settings) as sender:
        requests = [OutgoingRequest("POST", f"{rx.base}/pause") for _ in range(8)]
        requests.insert(2, OutgoingRequest("POST", "ftp://x.example/"))
        requests.insert(5, OutgoingRequest("POST", f"{rx.base}/fail/1/k"))
        attempts = await sender.send_many(requests)
    assert len(attempts) == 10
    assert attempts[2].failure is Failure.URL_REFUSED
    assert attempts[5].status == 500
    assert [a.status for i, a in enumerate(attempts) if i not in (2, 5)] == [204] * 8
    assert all(a.latency < 1.1 for a in attempts)
    assert rx.connections == 3 and len(rx.received) == 9
    assert await sender.send_many([]) == []


async def test_send_many_sends_one_chains_requests_in_order_the_rest_in_parallel() -> None:
    # One message's ENROUTE and final callbacks (one key) to a receiver taking 0.4 s each,
    # beside two of other messages: the pair goes one after another on one connection, in
    # order, while the others are answered meanwhile.
    settings = SenderSettings(allow_private=True, total_timeout=5.0)
    async with running_receiver() as rx, HttpSender(settings) as sender:
        requests = [
            OutgoingRequest("POST", f"{rx.base}/pause", body=b"enroute"),
            OutgoingRequest("POST", f"{rx.base}/pause", body=b"other-1"),
            OutgoingRequest("POST", f"{rx.base}/pause", body=b"final"),
            OutgoingRequest("POST", f"{rx.base}/pause", body=b"other-2"),
        ]
        started = time.perf_counter()
        attempts = await sender.send_many(requests, [17, 18, 17, None])
        took = time.perf_counter() - started
    assert [a.status for a in attempts] == [204] * 4
    bodies = [r.body for r in rx.received]
    assert bodies.index(b"enroute") < bodies.index(b"final")
    assert bodies.index(b"final") == 3  # after the others, which did not wait for it
    assert 0.8 <= took < 1.6  # the pair's two answers in a row, the others alongside
    assert rx.connections == 3


@pytest.mark.parametrize(("requests", "connections"), [(3, 3), (16, 4), (40, 10)])
async def test_send_many_shares_a_batch_out_a_turn_per_four_requests_and_at_least_four(
    requests: int, connections: int
) -> None:
    async with running_receiver() as rx, HttpSender(LOCAL) as sender:
        attempts = await sender.send_many(
            [OutgoingRequest("POST", f"{rx.base}/ok") for _ in range(requests)]
        )
    assert [a.status for a in attempts] == [204] * requests
    assert rx.connections == connections


async def test_a_receiver_that_never_answers_leaves_slots_for_the_others() -> None:
    # Three slots in all, two a receiver: the receiver that hangs takes two, and another
    # receiver is answered meanwhile instead of waiting for the hung ones' time limit.
    settings = SenderSettings(
        allow_private=True, total_timeout=30.0, max_connections=3, max_per_receiver=2
    )
    async with (
        running_receiver() as hanging,
        running_receiver() as fine,
        HttpSender(settings) as sender,
    ):
        stuck = [
            asyncio.ensure_future(sender.send(OutgoingRequest("POST", f"{hanging.base}/slow")))
            for _ in range(4)
        ]
        try:
            answered = await asyncio.wait_for(
                sender.send(OutgoingRequest("POST", f"{fine.base}/ok")), 20
            )
            assert answered.status == 204
            assert hanging.connections == 2 and not any(t.done() for t in stuck)
        finally:
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)


async def test_a_connection_slower_than_the_connect_limit_says_so() -> None:
    async def never_answers(host: str, port: int) -> list[str]:
        await asyncio.sleep(30)
        return ["127.0.0.1"]

    settings = SenderSettings(allow_private=True, connect_timeout=0.2, total_timeout=2.0)
    async with HttpSender(settings, resolver=never_answers) as sender:
        attempt = await sender.send(OutgoingRequest("POST", "http://hooks.test/ok"))
    assert attempt.failure is Failure.TIMEOUT
    assert attempt.error == "timed out connecting (limit 0.2 s)"


async def test_a_chunked_refusal_is_read_into_the_error() -> None:
    async with running_receiver() as rx, HttpSender(LOCAL) as sender:
        attempt = await sender.send(OutgoingRequest("POST", f"{rx.base}/chunked-refusal"))
    assert (attempt.status, attempt.error) == (503, "HTTP 503: down for maintenance")


async def test_environment_proxies_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://10.9.9.9:3128")
    monkeypatch.setenv("ALL_PROXY", "http://10.9.9.9:3128")
    async with running_receiver() as rx, HttpSender(LOCAL) as sender:
        assert (await sender.send(OutgoingRequest("POST", f"{rx.base}/ok"))).succeeded
    assert len(rx.received) == 1


async def test_a_header_with_a_line_break_is_refused_without_a_connection() -> None:
    request = OutgoingRequest("POST", "http://127.0.0.1:9/ok", (("x-a", "1\r\nx-b: 2"),))
    async with HttpSender(LOCAL) as sender:
        attempt = await sender.send(request)
    assert attempt.failure is Failure.TRANSPORT
    assert (
        attempt.error == "cannot send the request: a header value holds a line break or a NUL byte"
    )


async def test_an_ipv6_literal_url_reaches_its_receiver_with_a_bracketed_host() -> None:
    seen: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "::1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with HttpSender(LOCAL) as sender:
            attempt = await sender.send(OutgoingRequest("GET", f"http://[::1]:{port}/dlr?a=1"))
    finally:
        server.close()
    assert attempt.status == 204
    assert seen[0].startswith(b"GET /dlr?a=1 HTTP/1.1\r\nhost: [::1]:%d\r\n" % port)
