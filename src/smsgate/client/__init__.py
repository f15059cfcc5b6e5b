"""Python SDK for the SMS Club-compatible JSON API (smsgate or the hosted service) and for
smsgate's own native API (/api/v1/).

`Client` and `AsyncClient` speak the SMS Club API, `NativeClient` and `AsyncNativeClient` the
native one; all four share the request and retry machinery, and every failure is a `SmsGateError`.
Imports only httpx and the standard library, never the server's dependencies.
"""

from .account_models import (
    AccountBalance,
    Event,
    EventPage,
    InboundMessage,
    InboundPage,
    LedgerEntry,
    LedgerPage,
    Usage,
    UsageRow,
)
from .async_client import AsyncClient
from .async_native_client import AsyncNativeClient
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
    TransportError,
    UnexpectedResponseError,
    ValidationError,
)
from .models import Balance, SendResult, Status, StatusReport
from .native_client import NativeClient
from .native_models import (
    Message,
    MessagePage,
    MessageSummary,
    Part,
    Quote,
    QuoteLine,
    Recipient,
    Rejection,
    Sent,
    SentMessage,
    TimelineStep,
)
from .retry import RetryPolicy
from .sync_client import Client
from .webhook_models import FailedDelivery, Webhook

__all__ = [
    "AccountBalance",
    "AsyncClient",
    "AsyncNativeClient",
    "AuthenticationError",
    "Balance",
    "Client",
    "ConflictError",
    "DuplicateError",
    "Event",
    "EventPage",
    "FailedDelivery",
    "InboundMessage",
    "InboundPage",
    "LedgerEntry",
    "LedgerPage",
    "Message",
    "MessagePage",
    "MessageSummary",
    "NativeClient",
    "NotFoundError",
    "Part",
    "Quote",
    "QuoteLine",
    "RateLimitedError",
    "Recipient",
    "RecipientsRejectedError",
    "Rejection",
    "RequestInFlightError",
    "RetryPolicy",
    "SendResult",
    "Sent",
    "SentMessage",
    "ServerError",
    "SmsGateError",
    "Status",
    "StatusReport",
    "TimelineStep",
    "TransportError",
    "UnexpectedResponseError",
    "Usage",
    "UsageRow",
    "ValidationError",
    "Webhook",
]
