"""The JSON API without I/O: build the requests of each call (split into chunks of at most 100
items), read answers into envelopes or error values, parse envelopes into typed results.

Must not send, sleep or retry: that is `exchange.py` (decisions) and the two clients (I/O).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, Generic, TypeVar

from smsgate.immutable import record

from .errors import (
    AuthenticationError,
    DuplicateError,
    RateLimitedError,
    ServerError,
    SmsGateError,
    UnexpectedResponseError,
    ValidationError,
)
from .models import Balance, SendResult, Status, StatusReport

MAX_ITEMS = 100  # the contract's limit on phones, messages or ids per request

P = TypeVar("P")
T = TypeVar("T")
Envelope = dict[str, Any]


@record
class ApiRequest:
    path: str
    body: Mapping[str, object] | None = None
    # Sends carry one, made when the call is built, so every retry of the request repeats it
    # and a server that saw the first attempt answers it again instead of sending twice.
    idempotency_key: str | None = None
    method: str = "POST"
    query: Mapping[str, str] | None = None  # sent as the URL's query string

    def content(self) -> bytes:
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()


@record
class ApiResponse:
    status_code: int
    headers: Mapping[str, str]
    content: bytes


@record
class Call(Generic[P, T]):
    """One SDK method as data: its requests, how to read each answer, how to merge the parts."""

    requests: Sequence[ApiRequest]
    parse: Callable[[Envelope], P]
    merge: Callable[[list[P]], T]
    # How an answer becomes a JSON object or an error: the SMS Club envelope unless the API
    # answers otherwise (the native API's bodies and problems, native_answer.py).
    read: Callable[[ApiResponse], Envelope | SmsGateError] | None = None

    def reader(self) -> Callable[[ApiResponse], Envelope | SmsGateError]:
        return self.read or read_envelope


@record
class Paging(Generic[P, T]):
    """A listing read page by page: the first page's call, a page's items, and the call for
    the page after a page (None after the last)."""

    first: Call[P, P]
    items: Callable[[P], list[T]]
    after: Callable[[P], Call[P, P] | None]


PhoneLike = str | int
Phones = PhoneLike | Iterable[PhoneLike]


def as_strings(values: Phones) -> list[str]:
    """A phone or id, or many: JSON integers and strings alike become strings."""
    if isinstance(values, str | int):
        return [str(values)]
    return [str(v) for v in values]


def chunks(items: Sequence[T], size: int = MAX_ITEMS) -> list[Sequence[T]]:
    # An empty list still makes one request, so the server (not the SDK) says what is missing.
    if not items:
        return [items]
    return [items[i : i + size] for i in range(0, len(items), size)]


# -- calls -----------------------------------------------------------------------------------


def new_key() -> str:
    """A fresh Idempotency-Key: random, so two different sends never share one."""
    return str(uuid.uuid4())


def send_call(
    phones: Phones,
    text: str,
    sender: str,
    *,
    lifetime: float | None = None,
    integration_id: str | None = None,
) -> Call[SendResult, SendResult]:
    requests = []
    for part in chunks(as_strings(phones)):
        body: dict[str, object] = {"phone": list(part), "message": text, "src_addr": sender}
        if lifetime is not None:
            body["lifetime"] = lifetime
        if integration_id is not None:
            body["integration_id"] = integration_id
        requests.append(ApiRequest("/sms/send", body, new_key()))
    return Call(requests, parse_send, SendResult.merged)


def send_personal_call(
    items: Iterable[tuple[PhoneLike, str]], sender: str, *, lifetime: float | None = None
) -> Call[SendResult, SendResult]:
    pairs = [(str(phone), text) for phone, text in items]
    requests = []
    for part in chunks(pairs):
        body: dict[str, object] = {
            "src_addr": sender,
            "data_message": [{"phone": phone, "message": text} for phone, text in part],
        }
        if lifetime is not None:
            body["lifetime"] = lifetime
        requests.append(ApiRequest("/v2/sms/send", body, new_key()))
    return Call(requests, parse_send, SendResult.merged)


def status_call(ids: Phones) -> Call[StatusReport, StatusReport]:
    requests = [
        ApiRequest("/sms/status", {"id_sms": list(part)}) for part in chunks(as_strings(ids))
    ]
    return Call(requests, parse_status, StatusReport.merged)


def balance_call() -> Call[Balance, Balance]:
    return Call([ApiRequest("/sms/balance")], parse_balance, _only)


def senders_call() -> Call[list[str], list[str]]:
    return Call([ApiRequest("/sms/originator")], parse_senders, _only)


def _only(parts: list[T]) -> T:
    return parts[0]


# -- answers ---------------------------------------------------------------------------------


def read_envelope(response: ApiResponse) -> Envelope | SmsGateError:
    """The `success_request` object of a successful answer, or the error the answer means."""
    status = response.status_code
    body = json_object(response.content)
    if 200 <= status < 300:
        if body is not None and isinstance(body.get("success_request"), dict):
            envelope: Envelope = body["success_request"]
            return envelope
        return UnexpectedResponseError(
            f"HTTP {status} without a success_request object: {snippet(response.content)}",
            status,
        )
    message = _message(body, response.content, status)
    if status == 400:
        fields = _fields(body)
        if fields:
            message = "; ".join(f"{name}: {reason}" for name, reason in fields.items())
        return ValidationError(message, status, fields)
    if status == 401:
        return AuthenticationError(message, status)
    if status == 429:
        return RateLimitedError(message, status, parse_retry_after(header(response, "retry-after")))
    if status == 453:
        return DuplicateError(message, status)
    if status >= 500:
        return ServerError(message, status)
    return UnexpectedResponseError(message, status)


def parse_send(envelope: Envelope) -> SendResult:
    return SendResult(
        accepted=_string_map(envelope.get("info"), "info"),
        rejected=_string_map(envelope.get("add_info"), "add_info"),
    )


def parse_status(envelope: Envelope) -> StatusReport:
    statuses: dict[str, Status] = {}
    unknown = _string_map(envelope.get("add_info"), "add_info")
    for message_id, value in _string_map(envelope.get("info"), "info").items():
        try:
            statuses[message_id] = Status(value.upper())
        except ValueError:
            # Lenient: one odd status must not hide the others.
            unknown[message_id] = f"unrecognised status {value!r}"
    return StatusReport(statuses, unknown)


def parse_balance(envelope: Envelope) -> Balance:
    info = envelope.get("info")
    if not isinstance(info, dict) or "money" not in info:
        raise UnexpectedResponseError(f"balance answer without money: {info!r}", 200)
    try:
        money = Decimal(str(info["money"]))
    except InvalidOperation:
        raise UnexpectedResponseError(f"balance is not a number: {info['money']!r}", 200) from None
    return Balance(money=money, currency=str(info.get("currency") or ""))


def parse_senders(envelope: Envelope) -> list[str]:
    info = envelope.get("info")
    if info is None:
        return []
    if isinstance(info, dict):  # PHP encodes a sparse array as an object
        info = list(info.values())
    if not isinstance(info, list):
        raise UnexpectedResponseError(f"sender names are not a list: {info!r}", 200)
    return [str(name) for name in info]


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date; None when absent or bad."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def header(response: ApiResponse, name: str) -> str | None:
    value = response.headers.get(name)
    if value is not None:
        return value
    for key, candidate in response.headers.items():
        if key.lower() == name:
            return candidate
    return None


def json_object(content: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(content)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _message(body: dict[str, Any] | None, content: bytes, status: int) -> str:
    if body is not None:
        message = body.get("message")
        if isinstance(message, str) and message:
            return message
        name = body.get("name")
        if isinstance(name, str) and name:
            return name
    return f"HTTP {status}: {snippet(content)}" if content.strip() else f"HTTP {status}"


def _fields(body: dict[str, Any] | None) -> dict[str, str]:
    if body is None:
        return {}
    envelope = body.get("success_request")
    add_info = envelope.get("add_info") if isinstance(envelope, dict) else None
    if not isinstance(add_info, dict):
        return {}
    return {str(k): str(v) for k, v in add_info.items()}


def _string_map(value: object, name: str) -> dict[str, str]:
    if value is None or value == []:  # PHP encodes an empty map as []
        return {}
    if not isinstance(value, dict):
        raise UnexpectedResponseError(f"{name} is not an object: {value!r}", 200)
    return {str(k): str(v) for k, v in value.items()}


def snippet(content: bytes, limit: int = 200) -> str:
    text = content.decode("utf-8", "replace").strip()
    return text if len(text) <= limit else text[:limit] + "…"
