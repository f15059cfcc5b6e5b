"""Request building and answer reading, with no transport at all."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from smsgate.client import protocol
from smsgate.client.errors import (
    AuthenticationError,
    DuplicateError,
    RateLimitedError,
    ServerError,
    SmsGateError,
    UnexpectedResponseError,
    ValidationError,
)
from smsgate.client.models import Balance, SendResult, Status
from smsgate.client.protocol import ApiResponse


def answer(status: int, body: object, **headers: str) -> ApiResponse:
    return ApiResponse(status, headers, json.dumps(body).encode())


def envelope(body: object) -> protocol.Envelope:
    result = protocol.read_envelope(answer(200, body))
    assert isinstance(result, dict)
    return result


def test_send_builds_one_request_with_the_contract_field_names() -> None:
    call = protocol.send_call(["380501234567", 380501234568], "Hi", "Shop", lifetime=60)
    [request] = call.requests
    assert request.path == "/sms/send"
    assert json.loads(request.content()) == {
        "phone": ["380501234567", "380501234568"],
        "message": "Hi",
        "src_addr": "Shop",
        "lifetime": 60,
    }


def test_send_accepts_a_single_phone_as_a_string() -> None:
    [request] = protocol.send_call("380501234567", "Hi", "Shop").requests
    assert request.body is not None and request.body["phone"] == ["380501234567"]


def test_integration_id_is_sent_only_when_given() -> None:
    [plain] = protocol.send_call(["1"], "Hi", "Shop").requests
    [tagged] = protocol.send_call(["1"], "Hi", "Shop", integration_id="crm-7").requests
    assert plain.body is not None and "integration_id" not in plain.body
    assert tagged.body is not None and tagged.body["integration_id"] == "crm-7"


def test_request_body_is_utf8_json_not_ascii_escapes() -> None:
    [request] = protocol.send_call(["1"], "Привіт", "Shop").requests
    assert "Привіт".encode() in request.content()


def test_250_phones_become_requests_of_100_100_and_50_in_order() -> None:
    phones = [f"38050{n:07d}" for n in range(250)]
    call = protocol.send_call(phones, "Hi", "Shop")
    sent = [r.body["phone"] for r in call.requests if r.body is not None]
    assert [len(p) for p in sent] == [100, 100, 50]
    assert [p for part in sent for p in part] == phones


def test_an_empty_phone_list_still_asks_the_server_which_names_the_missing_field() -> None:
    [request] = protocol.send_call([], "Hi", "Shop").requests
    assert request.body is not None and request.body["phone"] == []


def test_personal_send_uses_v2_with_data_message_pairs() -> None:
    call = protocol.send_personal_call([("380501234567", "A"), (380501234568, "B")], "Shop")
    [request] = call.requests
    assert request.path == "/v2/sms/send"
    assert request.body == {
        "src_addr": "Shop",
        "data_message": [
            {"phone": "380501234567", "message": "A"},
            {"phone": "380501234568", "message": "B"},
        ],
    }


def test_status_splits_ids_over_100() -> None:
    call = protocol.status_call(range(1, 202))
    assert [len(r.body["id_sms"]) for r in call.requests if r.body is not None] == [100, 100, 1]
    assert call.requests[0].body is not None and call.requests[0].body["id_sms"][0] == "1"


def test_balance_and_senders_post_no_body() -> None:
    for call in (protocol.balance_call(), protocol.senders_call()):
        [request] = call.requests
        assert request.content() == b""
    assert protocol.balance_call().requests[0].path == "/sms/balance"
    assert protocol.senders_call().requests[0].path == "/sms/originator"


def test_send_answer_with_accepted_and_rejected() -> None:
    result = protocol.parse_send(
        envelope(
            {
                "success_request": {
                    "info": {"107": "380989361131"},
                    "add_info": {"380989361130": "Invalid phone number"},
                }
            }
        )
    )
    assert result == SendResult(
        accepted={"107": "380989361131"}, rejected={"380989361130": "Invalid phone number"}
    )


def test_send_answer_with_only_add_info_is_a_result_with_rejections_not_an_error() -> None:
    result = protocol.parse_send(envelope({"success_request": {"add_info": {"123": "Invalid"}}}))
    assert result.accepted == {}
    assert result.rejected == {"123": "Invalid"}


def test_php_style_empty_array_reads_as_an_empty_map() -> None:
    result = protocol.parse_send(envelope({"success_request": {"info": [], "add_info": []}}))
    assert result == SendResult()


def test_status_answer_maps_ids_to_statuses_and_reports_unknown_ids() -> None:
    report = protocol.parse_status(
        envelope(
            {
                "success_request": {
                    "info": {"1": "DELIVRD", "2": "ENROUTE"},
                    "add_info": {"3": "Message not found"},
                }
            }
        )
    )
    assert dict(report) == {"1": Status.DELIVRD, "2": Status.ENROUTE}
    assert report.unknown == {"3": "Message not found"}


def test_an_unrecognised_status_is_reported_as_unknown_without_hiding_the_others() -> None:
    report = protocol.parse_status(envelope({"success_request": {"info": {"1": "X", "2": "ok"}}}))
    assert dict(report) == {}
    assert set(report.unknown) == {"1", "2"}
    report = protocol.parse_status(envelope({"success_request": {"info": {"1": "delivrd"}}}))
    assert report["1"] is Status.DELIVRD


def test_balance_answer_is_decimal_money_and_currency() -> None:
    body = {"success_request": {"info": {"money": "8111.1700", "currency": "UAH"}}}
    assert protocol.parse_balance(envelope(body)) == Balance(Decimal("8111.1700"), "UAH")


def test_balance_answer_without_money_is_unexpected() -> None:
    with pytest.raises(UnexpectedResponseError):
        protocol.parse_balance(envelope({"success_request": {"info": {}}}))


def test_senders_answer_is_a_list_of_names() -> None:
    body = {"success_request": {"info": ["Shop", "Info"]}}
    assert protocol.parse_senders(envelope(body)) == ["Shop", "Info"]
    assert protocol.parse_senders(envelope({"success_request": {}})) == []


def test_validation_error_carries_the_fields_from_add_info() -> None:
    error = protocol.read_envelope(
        answer(400, {"success_request": {"add_info": {"src_addr": "Sender name is not active"}}})
    )
    assert isinstance(error, ValidationError)
    assert error.status_code == 400
    assert error.fields == {"src_addr": "Sender name is not active"}
    assert "src_addr: Sender name is not active" in error.message


@pytest.mark.parametrize(
    ("status", "name", "kind"),
    [
        (401, "Unauthorized", AuthenticationError),
        (429, "Too Many Requests", RateLimitedError),
        (453, "Duplicate", DuplicateError),
        (500, "Internal Server Error", ServerError),
        (503, "Service Unavailable", ServerError),
        (404, "Not Found", UnexpectedResponseError),
    ],
)
def test_top_level_errors_map_to_their_kind_with_the_servers_message(
    status: int, name: str, kind: type[Exception]
) -> None:
    body = {"name": name, "message": f"{name}, really.", "code": 0, "status": status}
    error = protocol.read_envelope(answer(status, body))
    assert type(error) is kind
    assert isinstance(error, SmsGateError)
    assert error.status_code == status
    assert error.message == f"{name}, really."


def test_rate_limit_error_reads_retry_after_seconds() -> None:
    error = protocol.read_envelope(
        answer(429, {"message": "Rate limit exceeded."}, **{"Retry-After": "2"})
    )
    assert isinstance(error, RateLimitedError)
    assert error.retry_after == 2.0


def test_rate_limit_error_without_retry_after_has_none() -> None:
    error = protocol.read_envelope(answer(429, {"message": "Rate limit exceeded."}))
    assert isinstance(error, RateLimitedError)
    assert error.retry_after is None


def test_retry_after_as_an_http_date_counts_from_now() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert protocol.parse_retry_after("Wed, 01 May 2024 12:00:05 GMT", now) == 5.0
    assert protocol.parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now) == 0.0
    assert protocol.parse_retry_after("soon", now) is None
    assert protocol.parse_retry_after("-3", now) == 0.0


def test_a_proxy_error_page_is_a_server_error_with_a_readable_message() -> None:
    error = protocol.read_envelope(ApiResponse(502, {}, b"<html>Bad Gateway</html>"))
    assert isinstance(error, ServerError)
    assert "Bad Gateway" in error.message


def test_a_200_without_success_request_is_unexpected() -> None:
    error = protocol.read_envelope(ApiResponse(200, {}, b"OK"))
    assert isinstance(error, UnexpectedResponseError)
    assert error.status_code == 200
