"""The SDK's one exception tree, rooted at `SmsGateError`: one class per error kind the JSON API
contract names, each carrying the HTTP status (None when no response came) and the server's message.

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"


class AuthenticationError(SmsGateError):
    """401: the token is missing, wrong or revoked."""


class ValidationError(SmsGateError):
    """400: the request itself was refused; `fields` maps each field name to the reason."""

    def __init__(
        self, message: str, status_code: int | None = 400, fields: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, status_code)
        self.fields: dict[str, str] = dict(fields or {})


class DuplicateError(SmsGateError):
    """453: every recipient already got this text from this account within two minutes."""


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
