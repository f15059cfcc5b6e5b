"""Typed values of the native API (/api/v1/) about an account: its balance, money ledger, usage,
event log and inbound SMS.

Plain values; reading them from JSON is `native_parse.py`'s job. Money is `Decimal`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from smsgate.immutable import record


@record
class AccountBalance:
    """`balance` may be spent; `reserved` is held for parts not yet with the operator."""

    balance: Decimal
    reserved: Decimal
    charged: Decimal
    currency: str


@record
class LedgerEntry:
    """One line of the money ledger, signed: `kind` is top_up, adjustment, charge and refund
    (these two with their message), carried (charges of messages retention deleted) or
    opening; the balance is the sum of the lines."""

    kind: str
    amount: Decimal
    at: datetime
    message_id: str | None
    balance_after: Decimal | None


@dataclass(frozen=True, slots=True)
class LedgerPage:
    """Newest first; `next_cursor` is None on the last page."""

    entries: list[LedgerEntry]
    next_cursor: str | None
    currency: str = ""


@record
class UsageRow:
    """Messages, parts and money of one group (`key`: a day, a status or a country)."""

    key: str
    messages: int
    parts: int
    cost: Decimal


@dataclass(frozen=True, slots=True)
class Usage:
    """Usage from `start` to `end` (both days included), grouped by `group`."""

    start: date
    end: date
    group: str
    rows: list[UsageRow]
    total: UsageRow  # its key is "total"
    currency: str = ""


@dataclass(frozen=True, slots=True)
class Event:
    """One change of the account's log, numbered by `seq`: replay after the last one seen."""

    seq: int
    type: str
    at: datetime
    message_id: str | None
    part_id: str | None
    data: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[Event]
    next_after: int  # pass as `after` to continue


@record
class InboundMessage:
    """An SMS sent to the account (MO); `complete` is False while parts are missing."""

    id: int
    sender: str  # the phone it came from ("from")
    to: str
    text: str
    keyword: str | None
    parts: int
    total: int
    complete: bool
    received_at: datetime


@dataclass(frozen=True, slots=True)
class InboundPage:
    messages: list[InboundMessage]
    next_after: int  # pass as `after` to continue
