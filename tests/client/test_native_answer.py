"""Native API answers read into JSON or typed errors: problems name the field at fault, the
replay and inbound routes' own error bodies read alike, and a page that is not the API's is
never mistaken for one."""

from __future__ import annotations

import json

import pytest

from smsgate.client.errors import (
    AuthenticationError,
    ConflictError,
    DuplicateError,
    NotFoundError,
    RateLimitedError,
    RecipientsRejectedError,
    RequestInFlightError,
    ServerError,
    SmsGateError,
    UnexpectedResponseError,
    ValidationError,
)
from smsgate.client.native_answer import read_answer
from smsgate.client.native_models import Rejection
from smsgate.client.protocol import ApiResponse
from smsgate.client.retry import RetryPolicy


def problem(
    status: int, slug: str, headers: dict[str, str] | None = None, **extra: object
) -> ApiResponse:
    body = {"type": f"/api/v1/problems/{slug}", "title": slug.title(), "status": status, **extra}
    return ApiResponse(status, headers or {}, json.dumps(body).encode())


def error_of(response: ApiResponse) -> SmsGateError:
    answer = read_answer(response)
    assert isinstance(answer, SmsGateError), answer
    return answer


def test_a_success_is_its_json_object_and_a_204_an_empty_one() -> None:
    assert read_answer(ApiResponse(201, {}, b'{"messages": []}')) == {"messages": []}
    assert read_answer(ApiResponse(204, {}, b"")) == {}


def test_an_invalid_field_names_the_field_and_every_reason() -> None:
    error = error_of(
        problem(
            422,
            "invalid-field",
            detail="Input should be greater than or equal to 60",
            field="valid_for",
            errors=[
                {"field": "valid_for", "detail": "Input should be greater than or equal to 60"},
                {"field": "recipients.2.to", "detail": "String should have at least 1 character"},
            ],
        )
    )
    assert isinstance(error, ValidationError) and error.status_code == 422
    assert error.field == "valid_for" and error.problem_type == "/api/v1/problems/invalid-field"
    assert error.message == "Input should be greater than or equal to 60"
    assert list(error.fields) == ["valid_for", "recipients.2.to"]


def test_no_recipient_accepted_carries_each_rejection() -> None:
    rejected = [{"to": "x", "client_ref": "r1", "reason": "Invalid phone", "code": "invalid_phone"}]
    error = error_of(
        problem(422, "no-recipient-accepted", field="to", detail="All refused", rejected=rejected)
    )
    assert isinstance(error, RecipientsRejectedError) and isinstance(error, ValidationError)
    assert error.rejected == [Rejection("x", "r1", "Invalid phone", "invalid_phone")]


@pytest.mark.parametrize(
    ("status", "slug", "kind"),
    [
        (401, "unauthorized", AuthenticationError),
        (404, "not-found", NotFoundError),
        (409, "duplicate", DuplicateError),
        (409, "not-cancellable", ConflictError),
        (500, "internal", ServerError),
        (418, "teapot", UnexpectedResponseError),
    ],
)
def test_each_problem_status_is_its_own_error(
    status: int, slug: str, kind: type[SmsGateError]
) -> None:
    error = error_of(problem(status, slug, detail="why"))
    assert type(error) is kind and error.status_code == status and error.message == "why"


def test_a_key_in_flight_is_retried_after_retry_after() -> None:
    error = error_of(
        problem(409, "idempotency-key-in-flight", {"Retry-After": "1"}, field="Idempotency-Key")
    )
    assert isinstance(error, RequestInFlightError) and error.retry_after == 1.0
    assert RetryPolicy().delay(0, error) == 1.0
    assert RetryPolicy().delay(0, ConflictError("too late", 409)) is None


def test_a_rate_limit_takes_the_header_or_the_problem_member() -> None:
    by_header = error_of(problem(429, "rate-limited", {"retry-after": "3"}))
    by_member = error_of(problem(429, "rate-limited", retry_after=2))
    assert isinstance(by_header, RateLimitedError) and by_header.retry_after == 3.0
    assert isinstance(by_member, RateLimitedError) and by_member.retry_after == 2.0


def test_the_replay_and_inbound_error_bodies_read_like_problems() -> None:
    replay = error_of(
        ApiResponse(400, {}, b'{"error": "after must be a whole number", "field": "after"}')
    )
    inbound = error_of(
        ApiResponse(401, {}, b'{"error": {"code": "unauthorized", "message": "Token needed."}}')
    )
    assert isinstance(replay, ValidationError) and replay.field == "after"
    assert replay.fields == {"after": "after must be a whole number"}
    assert isinstance(inbound, AuthenticationError) and inbound.message == "Token needed."


def test_a_page_that_is_not_the_api_is_unexpected_not_not_found() -> None:
    html = error_of(ApiResponse(404, {}, b"<html>Not Found</html>"))
    gateway = error_of(ApiResponse(502, {}, b"<html>Bad Gateway</html>"))
    empty = error_of(ApiResponse(200, {}, b"[]"))
    assert type(html) is UnexpectedResponseError and "Not Found" in html.message
    assert type(gateway) is ServerError
    assert type(empty) is UnexpectedResponseError
