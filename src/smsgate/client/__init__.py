"""Python SDK for the SMS Club-compatible JSON API (smsgate or the hosted service).

`Client` and `AsyncClient` share everything but the transport; every failure is a `SmsGateError`.
Imports only httpx and the standard library, never the server's dependencies.
"""

from .async_client import AsyncClient
from .errors import (
    AuthenticationError,
    DuplicateError,
    RateLimitedError,
    ServerError,
    SmsGateError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
)
from .models import Balance, SendResult, Status, StatusReport
from .retry import RetryPolicy
from .sync_client import Client

__all__ = [
    "AsyncClient",
    "AuthenticationError",
    "Balance",
    "Client",
    "DuplicateError",
    "RateLimitedError",
    "RetryPolicy",
    "SendResult",
    "ServerError",
    "SmsGateError",
    "Status",
    "StatusReport",
    "TransportError",
    "UnexpectedResponseError",
    "ValidationError",
]
