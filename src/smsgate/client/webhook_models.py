"""Typed values of the native API's webhook endpoints (/api/v1/webhooks): an endpoint with its
health, and a delivery given up after its retries.

Plain values; reading them from JSON is `native_parse.py`'s job.
"""

from __future__ import annotations

from datetime import datetime

from smsgate.immutable import record


@record
class Webhook:
    """An endpoint the account's events are signed and POSTed to (Standard Webhooks).
    `secret` is there only in the answers that make one (add, rotate): it is shown once."""

    id: str
    url: str
    events: tuple[str, ...]
    enabled: bool  # False after a day of failed deliveries, until enabled again
    rotating: bool  # signed with the old secret too, until the rotation is finished
    created_at: datetime
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    secret: str | None = None


@record
class FailedDelivery:
    """A delivery given up after its retries (a dead letter); redeliver it by `id`."""

    id: str
    endpoint_id: str | None
    webhook_id: str | None  # the event's webhook-id header
    type: str | None
    created_at: datetime
    dead_at: datetime
    attempts: int
    last_error: str | None
