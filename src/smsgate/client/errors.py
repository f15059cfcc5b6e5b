"""The SDK's one exception tree, rooted at `SmsGateError`: one class per error kind the JSON API
and the native API name, each carrying the HTTP status (None when no response came), the server's
message and, from a native problem, the field at fault.

Pure values: nothing here parses responses or talks to the network (see `protocol.py`).
"""

from __future__ import annotations


class SmsGateError(Exception):
    """Any failure of a call: catch this to catch them all."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        # For calls split into several requests: the merged results of the requests that
        # succeeded before this one failed (a SendResult for sends), else None.
        self.partial: object | None = None
        # From a native API problem (RFC 9457): the request field at fault (a body member as a
        # dotted path, a query parameter or a header) and the problem's type, when given.
        self.field: str | None = None
        self.problem_type: str | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"


class AuthenticationError(SmsGateError):
    """401: the token is missing, wrong or revoked."""


class ValidationError(SmsGateError):
    """400 (or the native API's 422): the request itself was refused; `fields` maps each field
    name to the reason."""

    def __init__(
        self, message: str, status_code: int | None = 400, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, status_code)
        self.fields: dict[str, str] = dict(fields or {})


class RecipientsRejectedError(ValidationError):
    """Native API send: every recipient was refused; `rejected` says why for each one (a list
    of `native_models.Rejection`)."""

    def __init__(
        self, message: str, status_code: int | None = 422, rejected: list[object] | None = None
    ) -> None:
        super().__init__(message, status_code)
        self.rejected: list[object] = list(rejected or [])


class DuplicateError(SmsGateError):
    """453 (native API: 409): every recipient already got this text from this account within
    two minutes."""


class NotFoundError(SmsGateError):
    """404 from the native API: no such message of this account."""


class ConflictError(SmsGateError):
    """409 from the native API: the request conflicts with the state, e.g. cancelling a message
    already with the operator."""


class RequestInFlightError(ConflictError):
    """409: the first request with this Idempotency-Key is still being served; retried after
    `retry_after` seconds like a 429, since its answer will soon be there to repeat."""

    def __init__(
        self, message: str, status_code: int | None = 409, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status_code)
        self.retry_after = retry_after


class RateLimitedError(SmsGateError):
    """429: the account's request rate was exceeded; `retry_after` is in seconds when known."""

    def __init__(
        self, message: str, status_code: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status_code)
        self.retry_after = retry_after


class ServerError(SmsGateError):
    """5xx: the server failed; the same request may succeed later."""


class TransportError(SmsGateError):
    """No usable answer arrived: connection refused or dropped, DNS failure, timeout."""


class UnexpectedResponseError(SmsGateError):
    """An answer the contract does not describe (a 404, a proxy's HTML page, a malformed body)."""
