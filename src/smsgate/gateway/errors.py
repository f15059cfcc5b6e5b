"""Request-level refusals of the gateway, as values the doors translate into their own formats.

Per-recipient problems are not exceptions: they ride in `SendOutcome.rejected` beside the
accepted ones.
"""

from __future__ import annotations

from enum import StrEnum


class GatewayError(Exception):
    """Base of every refusal a door must translate."""


class Unauthorized(GatewayError):
    """Unknown credentials or a disabled account (indistinguishable on purpose)."""


class InvalidRequest(GatewayError):
    """The request itself is wrong; `field` names the offending wire field's role."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class SenderNotAllowed(InvalidRequest):
    def __init__(self, sender: str) -> None:
        super().__init__("sender", "Sender name is not an active originator of the account")
        self.sender = sender


class RateLimited(GatewayError):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limit exceeded, retry after {retry_after:.3f}s")
        self.retry_after = retry_after


class AllDuplicates(GatewayError):
    """Every recipient already got the same text from this account within the window."""


class Rejection(StrEnum):
    """Why one recipient of a request was not accepted; the value is the human reason."""

    INVALID_PHONE = "Invalid phone number"
    DUPLICATE = "Doubled SMS in less than 2 minutes"
    NO_MONEY = "Insufficient balance"
    NO_TARIFF = "No tariff for destination"
    INVALID_TEXT = "Invalid message text"
    # The recipient sent STOP to this account (or the admin put it on the account's list).
    OPTED_OUT = "Recipient opted out"
    # SMPP door: the parts of this long message were finished by another node meanwhile.
    ALREADY_FINISHED = "Already finished"
