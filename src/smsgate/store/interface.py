"""The whole store as one type: the union of its roles (roles.py), for what must hold all of
them (the node that builds the rooms, the admin commands); a room should ask for its roles.

Also the store's one error type, raised by every role.
"""

from __future__ import annotations

from typing import Protocol

from smsgate.store.roles import (
    Accepting,
    AccountAdmin,
    Changes,
    Claims,
    DeadLetters,
    Events,
    HeldParts,
    IdempotencyKeys,
    Inbound,
    Leases,
    Ledger,
    Lifecycle,
    LoginFailures,
    Messages,
    Outbox,
    Receipts,
    RequestLimits,
    Retention,
    Suppressions,
    WebhookEndpoints,
)


class StoreError(Exception):
    """A store call that cannot be carried out (unknown account, duplicate login, ...)."""


class Store(
    Lifecycle,
    AccountAdmin,
    Accepting,
    Messages,
    Changes,
    Claims,
    Receipts,
    RequestLimits,
    Outbox,
    Events,
    Leases,
    Ledger,
    HeldParts,
    Inbound,
    Retention,
    IdempotencyKeys,
    LoginFailures,
    Suppressions,
    WebhookEndpoints,
    DeadLetters,
    Protocol,
):
    """Every role of the store at once."""
