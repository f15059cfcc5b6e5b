"""Which gateway refusal is which problem (RFC 9457), with the native API's field names."""

from __future__ import annotations

import math

from smsgate.gateway.errors import (
    AllDuplicates,
    GatewayError,
    InvalidRequest,
    RateLimited,
    Rejection,
    SenderNotAllowed,
    Unauthorized,
)
from smsgate.gateway.idempotency import KeyInFlight, KeyReused
from smsgate.gateway.webhook_setup import WebhookConflict

from .auth import unauthorized
from .problems import ProblemError

# Gateway field roles -> this API's field names.
_FIELDS = {
    "phone": "to",
    "text": "text",
    "sender": "sender",
    "lifetime": "valid_for",
    "callback": "callback_url",
}

REJECTION_CODES = {
    Rejection.INVALID_PHONE: "invalid_phone",
    Rejection.DUPLICATE: "duplicate",
    Rejection.NO_MONEY: "no_money",
    Rejection.NO_TARIFF: "no_tariff",
    Rejection.INVALID_TEXT: "invalid_text",
    Rejection.OPTED_OUT: "opted_out",
    Rejection.ALREADY_FINISHED: "already_finished",
}


def problem_for(error: GatewayError) -> ProblemError:
    if isinstance(error, Unauthorized):
        return unauthorized()
    if isinstance(error, SenderNotAllowed):
        return ProblemError(
            422, "sender-not-allowed", "Sender not allowed", error.reason, field="sender"
        )
    if isinstance(error, InvalidRequest):
        field = _FIELDS.get(error.field, error.field)
        return ProblemError(422, "invalid-field", "Invalid field", error.reason, field=field)
    if isinstance(error, RateLimited):
        retry = max(1, math.ceil(error.retry_after))
        return ProblemError(
            429,
            "rate-limited",
            "Too Many Requests",
            "The account's sending rate is exceeded.",
            retry_after=retry,
            headers={"Retry-After": str(retry)},
        )
    if isinstance(error, AllDuplicates):
        return ProblemError(
            409,
            "duplicate",
            "Duplicate",
            "Every recipient got this text from this account within the last 2 minutes.",
        )
    if isinstance(error, KeyReused):
        return ProblemError(
            422,
            "idempotency-key-reused",
            "Idempotency-Key reused",
            "This Idempotency-Key was first used with another request body.",
            field="Idempotency-Key",
        )
    if isinstance(error, KeyInFlight):
        return ProblemError(
            409,
            "idempotency-key-in-flight",
            "Request in progress",
            "The first request with this Idempotency-Key is still being served; retry later.",
            field="Idempotency-Key",
            headers={"Retry-After": "1"},
        )
    if isinstance(error, WebhookConflict):
        return ProblemError(409, "conflict", "Conflict", error.reason)
    return ProblemError(400, "refused", "Refused", str(error))
