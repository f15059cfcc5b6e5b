"""The `sms` command's exit codes: one per error kind, so scripts can tell them apart.

Only the table and the lookup; printing the error is the CLI's job.
"""

from __future__ import annotations

from enum import IntEnum

from .errors import (
    AuthenticationError,
    ConflictError,
    DuplicateError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    SmsGateError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
)


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    USAGE = 2
    AUTHENTICATION = 3
    VALIDATION = 4
    DUPLICATE = 5
    RATE_LIMITED = 6
    SERVER = 7
    TRANSPORT = 8
    UNEXPECTED_RESPONSE = 9
    REJECTED = 10
    NOT_FOUND = 11
    CONFLICT = 12
    INTERRUPTED = 130


MEANINGS = {
    ExitCode.OK: "success (send: every recipient accepted)",
    ExitCode.INTERNAL: "internal error of the CLI, or a file could not be written",
    ExitCode.USAGE: "usage error: bad options, no token, unreadable CSV",
    ExitCode.AUTHENTICATION: "authentication failed (HTTP 401): check the token",
    ExitCode.VALIDATION: "request refused (HTTP 400, 422), e.g. inactive sender name",
    ExitCode.DUPLICATE: "duplicate: the same text to the same recipients within 2 minutes "
    "(453; native API 409)",
    ExitCode.RATE_LIMITED: "rate limited (HTTP 429) even after retrying",
    ExitCode.SERVER: "server error (HTTP 5xx) even after retrying",
    ExitCode.TRANSPORT: "no connection or timed out, even after retrying",
    ExitCode.UNEXPECTED_RESPONSE: "an answer the API does not define (wrong URL?)",
    ExitCode.REJECTED: "send (or quote) finished but some recipients were rejected",
    ExitCode.NOT_FOUND: "no such message of this account (HTTP 404)",
    ExitCode.CONFLICT: "conflict (HTTP 409), e.g. cancelling a message already with the operator",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}

_BY_KIND: list[tuple[type[SmsGateError], ExitCode]] = [
    (AuthenticationError, ExitCode.AUTHENTICATION),
    (ValidationError, ExitCode.VALIDATION),
    (DuplicateError, ExitCode.DUPLICATE),
    (NotFoundError, ExitCode.NOT_FOUND),
    (ConflictError, ExitCode.CONFLICT),
    (RateLimitedError, ExitCode.RATE_LIMITED),
    (ServerError, ExitCode.SERVER),
    (TransportError, ExitCode.TRANSPORT),
    (UnexpectedResponseError, ExitCode.UNEXPECTED_RESPONSE),
]


def exit_code_for(error: SmsGateError) -> ExitCode:
    for kind, code in _BY_KIND:
        if isinstance(error, kind):
            return code
    return ExitCode.INTERNAL


def describe() -> str:
    return "\n".join(f"- **{int(code)}** {meaning}" for code, meaning in MEANINGS.items())
