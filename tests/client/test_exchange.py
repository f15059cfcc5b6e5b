"""The shared conversation driven by hand: what it sends, when it sleeps, what it returns."""

from __future__ import annotations

import json

import pytest

from smsgate.client import protocol
from smsgate.client.errors import ServerError, TransportError, ValidationError
from smsgate.client.exchange import Send, Sleep, conversation, drive_sync
from smsgate.client.models import SendResult
from smsgate.client.protocol import ApiRequest, ApiResponse
from smsgate.client.retry import RetryPolicy


def ok(info: dict[str, str]) -> ApiResponse:
    return ApiResponse(200, {}, json.dumps({"success_request": {"info": info}}).encode())


def failed(status: int) -> ApiResponse:
    body = {"name": "Error", "message": f"failed with {status}", "code": 0, "status": status}
    return ApiResponse(status, {}, json.dumps(body).encode())


def test_a_server_error_is_followed_by_a_sleep_then_the_same_request() -> None:
    talk = conversation(protocol.send_call(["1"], "Hi", "Shop"), RetryPolicy(backoff=0.25))
    first = next(talk)
    assert isinstance(first, Send)
    assert talk.send(failed(500)) == Sleep(0.25)
    again = talk.send(None)
    assert again == first
    with pytest.raises(StopIteration) as done:
        talk.send(ok({"7": "1"}))
    assert done.value.value == SendResult(accepted={"7": "1"})


def test_chunks_are_sent_in_order_and_merged_in_order() -> None:
    phones = [str(n) for n in range(150)]
    sent: list[ApiRequest] = []

    def send(request: ApiRequest) -> ApiResponse:
        sent.append(request)
        body = request.body or {}
        return ok({f"id{p}": str(p) for p in body["phone"]})  # type: ignore[attr-defined]

    talk = conversation(protocol.send_call(phones, "Hi", "Shop"), RetryPolicy())
    result = drive_sync(talk, send, lambda s: None)
    assert len(sent) == 2
    assert list(result.accepted.values()) == phones


def test_a_failure_in_a_later_chunk_carries_the_results_of_the_earlier_ones() -> None:
    answers = iter([ok({"1": "a"}), failed(400)])
    talk = conversation(protocol.send_call(["p"] * 101, "Hi", "Shop"), RetryPolicy())
    with pytest.raises(ValidationError) as raised:
        drive_sync(talk, lambda request: next(answers), lambda s: None)
    assert raised.value.partial == SendResult(accepted={"1": "a"})


def test_the_first_chunk_failing_leaves_no_partial_result() -> None:
    talk = conversation(protocol.send_call(["1"], "Hi", "Shop"), RetryPolicy(retries=0))
    with pytest.raises(ServerError) as raised:
        drive_sync(talk, lambda request: failed(503), lambda s: None)
    assert raised.value.partial is None


def test_transport_failures_are_fed_in_as_values_and_raised_when_retries_run_out() -> None:
    slept: list[float] = []
    talk = conversation(protocol.balance_call(), RetryPolicy(retries=2, backoff=1.0))
    with pytest.raises(TransportError, match="refused"):
        drive_sync(talk, lambda request: TransportError("connection refused"), slept.append)
    assert slept == [1.0, 2.0]
