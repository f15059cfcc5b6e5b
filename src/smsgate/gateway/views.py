"""What the doors see of accounts and messages: the store's records, re-exported here so a
door imports only `gateway` (tests/test_layering.py). Read-only values; the store must not
import this module."""

from __future__ import annotations

from smsgate.store.records import (
    CALLBACKS,
    INBOUND,
    RECEIPTS,
    WEBHOOKS,
    AccountEvent,
    AccountRecord,
    AccountSummary,
    Balance,
    DeadLetter,
    Delivery,
    InboundRecord,
    LedgerPosition,
    MessageCallback,
    MessageFilter,
    MessageLine,
    MessageView,
    OutboxAttempt,
    OutboxItem,
    PartView,
    Suppression,
    Tariff,
    TrafficRow,
    UsageRow,
    WebhookEndpoint,
)

__all__ = [
    "CALLBACKS",
    "INBOUND",
    "RECEIPTS",
    "WEBHOOKS",
    "AccountEvent",
    "AccountRecord",
    "AccountSummary",
    "Balance",
    "DeadLetter",
    "Delivery",
    "InboundRecord",
    "LedgerPosition",
    "MessageCallback",
    "MessageFilter",
    "MessageLine",
    "MessageView",
    "OutboxAttempt",
    "OutboxItem",
    "PartView",
    "Suppression",
    "Tariff",
    "TrafficRow",
    "UsageRow",
    "WebhookEndpoint",
]
