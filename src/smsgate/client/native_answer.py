"""A native API answer read into its JSON object, or into the typed error its RFC 9457 problem
means, with the field at fault (`error.field`) and every field's reason (`ValidationError.fields`).

Also reads the `{"error": ...}` bodies of the replay and inbound routes that answer outside the
problem format. Must not retry or parse successful bodies into values (`native_parse.py`).
"""

from __future__ import annotations

from typing import Any

from .errors import (
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
from .native_parse import parse_rejections
from .protocol import ApiResponse, header, json_object, parse_retry_after, snippet

Json = dict[str, Any]


def read_answer(response: ApiResponse) -> Json | SmsGateError:
    status = response.status_code
    body = json_object(response.content)
    if 200 <= status < 300:
        if status == 204:  # a removal answers nothing
            return {}
        if body is None:
            return UnexpectedResponseError(
                f"HTTP {status} without a JSON object: {snippet(response.content)}", status
            )
        return body
    if body is None:
        # Not the API speaking (a proxy's page, a wrong URL): say what came instead.
        text = snippet(response.content)
        kind = ServerError if status >= 500 else UnexpectedResponseError
        return kind(f"HTTP {status}: {text}" if text else f"HTTP {status}", status)
    error = _error_for(status, body, response)
    error.field = _field(body)
    problem_type = body.get("type")
    error.problem_type = problem_type if isinstance(problem_type, str) else None
    return error


def _error_for(status: int, body: Json, response: ApiResponse) -> SmsGateError:
    message = _message(body, status)
    kind = _slug(body)
    if status in (400, 413, 422):
        fields = _fields(body)
        if kind == "no-recipient-accepted":
            rejected: list[object] = list(parse_rejections(body.get("rejected")))
            return RecipientsRejectedError(message, status, rejected)
        return ValidationError(message, status, fields)
    if status == 401:
        return AuthenticationError(message, status)
    if status == 404:
        return NotFoundError(message, status)
    if status == 409:
        if kind == "duplicate":
            return DuplicateError(message, status)
        if kind == "idempotency-key-in-flight":
            return RequestInFlightError(message, status, _retry_after(body, response))
        return ConflictError(message, status)
    if status == 429:
        return RateLimitedError(message, status, _retry_after(body, response))
    if status >= 500:
        return ServerError(message, status)
    return UnexpectedResponseError(message, status)


def _slug(body: Json) -> str:
    problem_type = body.get("type")
    return problem_type.rstrip("/").rsplit("/", 1)[-1] if isinstance(problem_type, str) else ""


def _message(body: Json, status: int) -> str:
    for key in ("detail", "title"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value
    error = body.get("error")
    if isinstance(error, dict):
        error = error.get("message")
    if isinstance(error, str) and error:
        return error
    return f"HTTP {status}"


def _field(body: Json) -> str | None:
    field = body.get("field")
    return field if isinstance(field, str) and field else None


def _fields(body: Json) -> dict[str, str]:
    """Every field at fault with its reason; the problem's own field first."""
    fields: dict[str, str] = {}
    field = _field(body)
    if field is not None:
        fields[field] = _message(body, 0)
    errors = body.get("errors")
    for item in errors if isinstance(errors, list) else []:
        if isinstance(item, dict) and isinstance(item.get("field"), str):
            fields.setdefault(item["field"], str(item.get("detail", "")))
    return fields


def _retry_after(body: Json, response: ApiResponse) -> float | None:
    seconds = parse_retry_after(header(response, "retry-after"))
    if seconds is None and isinstance(body.get("retry_after"), int | float):
        seconds = float(body["retry_after"])
    return seconds
