"""Typed values of the native API (/api/v1/) about messages: what a send, a quote, a message
and a search page answer, and `Recipient`, one addressee of a send.

Plain values; reading them from JSON is `native_parse.py`'s job. Money is `Decimal` (the API
sends decimal strings), times are aware `datetime`s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from smsgate.immutable import record

from .models import Status


@record
class Recipient:
    """One addressee of a send: its own text (else the send's), and your reference for it,
    echoed back in the answer."""

    to: str
    text: str | None = None
    client_ref: str | None = None


@record
class SentMessage:
    """One accepted recipient: its message id, and how the text is encoded and priced."""

    id: str
    to: str  # as given
    number: str  # international digits it goes to
    client_ref: str | None
    status: Status
    encoding: str  # "GSM-7" or "UCS-2"
    parts: int
    characters: int
    price: Decimal


@record
class Rejection:
    """One refused recipient; `code` is stable (invalid_phone, duplicate, no_money, …)."""

    to: str
    client_ref: str | None
    reason: str
    code: str


@dataclass(frozen=True, slots=True)
class Sent:
    """The answer to a send; `send_at` is None when the messages go at once."""

    messages: list[SentMessage]
    rejected: list[Rejection]
    send_at: datetime | None
    total_price: Decimal
    currency: str
    balance: Decimal  # what the account may still spend, after this send

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.messages]

    @classmethod
    def merged(cls, parts: list[Sent]) -> Sent:
        """Chunks of one send as one answer: the balance is the last chunk's, the freshest."""
        last = parts[-1]
        return cls(
            messages=[m for p in parts for m in p.messages],
            rejected=[r for p in parts for r in p.rejected],
            send_at=last.send_at,
            total_price=sum((p.total_price for p in parts), Decimal(0)),
            currency=last.currency,
            balance=last.balance,
        )


@record
class QuoteLine:
    """The price of one recipient; `ucs2_characters` are those forcing UCS-2 (70 per part)."""

    to: str
    number: str
    client_ref: str | None
    encoding: str
    parts: int
    characters: int
    ucs2_characters: tuple[str, ...]
    price_per_part: Decimal
    price: Decimal


@dataclass(frozen=True, slots=True)
class Quote:
    """What a send would cost, and whether the balance covers it; nothing was sent."""

    recipients: list[QuoteLine]
    rejected: list[Rejection]
    total_price: Decimal
    currency: str
    balance: Decimal
    covered: bool


@record
class TimelineStep:
    """One step of a message's life: accepted, submitted (a part, with the operator's id), or
    a part's end (delivered, undelivered, expired, rejected, with its error if any)."""

    at: datetime
    type: str
    part: int | None
    operator_id: str | None
    error: int | None


@record
class Part:
    """One SMS of a message: `state` is finer than `status` (QUEUED, SENDING, SUBMITTED, …)."""

    seq: int
    status: Status
    state: str
    operator_id: str | None
    price: Decimal
    submitted_at: datetime | None
    done_at: datetime | None
    error: int


@dataclass(frozen=True, slots=True)
class Message:
    """A message read back: its status, price, parts and timeline."""

    id: str
    to: str
    sender: str
    status: Status
    created_at: datetime
    done_at: datetime | None
    error: int
    price: Decimal
    currency: str
    parts: list[Part]
    client_ref: str | None = None
    events: tuple[TimelineStep, ...] = ()  # in time order; empty from a server without them

    @property
    def is_final(self) -> bool:
        return self.status.is_final


@record
class MessageSummary:
    """A message as a search lists it."""

    id: str
    to: str
    sender: str
    status: Status
    created_at: datetime
    done_at: datetime | None
    error: int
    client_ref: str | None = None


@dataclass(frozen=True, slots=True)
class MessagePage:
    """One page of a search, newest first; `next_cursor` is None on the last page."""

    messages: list[MessageSummary]
    next_cursor: str | None
