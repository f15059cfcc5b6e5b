"""The webhook fan-out: one event of an account becomes one outbox item (kind "webhooks") per
enabled endpoint of that account subscribed to the event's type, queued inside the
transaction of the change the event reports, so an event is sent if and only if its change
is stored.

An item's payload is everything its deliveries need and keep: the endpoint, the `webhook-id`
(the same on every retry and redelivery) and the event (`type`, `timestamp`, `data`). Must not
commit or roll back: the caller owns the transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from smsgate.domain.status import Status
from smsgate.immutable import record
from smsgate.store.records import MESSAGE_STATUS, MESSAGE_STATUS_ALL, WEBHOOKS
from smsgate.store.statements import message_details, queue_outbox_item, webhook_subscribers


@record
class WebhookEvent:
    """Something that happened to an account, for its webhook endpoints subscribed to any of
    `audience` (its `type` when empty)."""

    account_id: int
    type: str
    data: Mapping[str, Any]
    at: float
    audience: tuple[str, ...] = ()


_FINAL_AUDIENCE = (MESSAGE_STATUS, MESSAGE_STATUS_ALL)
_ENROUTE_AUDIENCE = (MESSAGE_STATUS_ALL,)


# What a message.status event says of its message besides the change: (recipient, sender,
# client_ref, parts).
MessageDetails = tuple[str, str, str | None, int]


def status_event(
    account_id: int, message_id: int, status: Status, error: int, at: float
) -> WebhookEvent:
    """`message.status`: a message reached a final status (for endpoints subscribed to
    message.status or message.status.all), or is on its way (message.status.all only).
    Without its message's details until `described` adds them (only a change some endpoint
    will hear of reads them)."""
    data = {"id": str(message_id), "status": status.value, "error": error}
    audience = _ENROUTE_AUDIENCE if status is Status.ENROUTE else _FINAL_AUDIENCE
    return WebhookEvent(account_id, MESSAGE_STATUS, data, at, audience)


def described(event: WebhookEvent, details: Mapping[int, MessageDetails]) -> WebhookEvent:
    """A message.status event with what its receiver needs to act on it without asking back,
    as the native API names it: the recipient (`to`), `sender`, the customer's `client_ref`,
    the number of `parts` and, once final, `done_at`. Other events as they are."""
    if event.type != MESSAGE_STATUS:
        return event
    found = details.get(int(event.data["id"]))
    if found is None:
        return event
    to, sender, client_ref, parts = found
    status = event.data["status"]
    data = {
        "id": event.data["id"],
        "to": to,
        "sender": sender,
        "client_ref": client_ref,
        "status": status,
        "error": event.data["error"],
        "parts": parts,
        "done_at": None if status == Status.ENROUTE.value else timestamp_text(event.at),
    }
    return WebhookEvent(event.account_id, event.type, data, event.at, event.audience)


def subscribes(event_types: str, event: WebhookEvent) -> bool:
    """Whether an endpoint's space-separated event types take `event`."""
    wanted = event_types.split()
    return any(t in wanted for t in event.audience or (event.type,))


def new_webhook_id() -> str:
    """A `webhook-id` (Standard Webhooks: unique per delivery, kept on retries)."""
    return "msg_" + uuid.uuid4().hex


def timestamp_text(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def webhook_payload(endpoint_id: int, event: WebhookEvent) -> str:
    return json.dumps(
        {
            "endpoint": endpoint_id,
            "id": new_webhook_id(),
            "type": event.type,
            "timestamp": timestamp_text(event.at),
            "data": dict(event.data),
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


OutboxRow = tuple[int, str, None, None, int, str, float, None]


def fan_out(
    events: Sequence[WebhookEvent], endpoints: Iterable[tuple[int, int, str]]
) -> list[OutboxRow]:
    """The outbox rows (queue_outbox_item's columns) of `events` for `endpoints` given as
    (endpoint id, account id, event types) of enabled endpoints, in event order. The rows
    name no message: the payload says it all, and a row's own time (not its message's)
    starts its retry window, so a redelivered copy gets a fresh one."""
    by_account: dict[int, list[tuple[int, str]]] = {}
    for endpoint_id, account_id, event_types in endpoints:
        by_account.setdefault(account_id, []).append((endpoint_id, event_types))
    rows: list[OutboxRow] = []
    for event in events:
        for endpoint_id, event_types in by_account.get(event.account_id, ()):
            if subscribes(event_types, event):
                payload = webhook_payload(endpoint_id, event)
                rows.append((event.account_id, WEBHOOKS, None, None, 0, payload, event.at, None))
    return rows


def queue_webhooks(conn: Connection, events: Sequence[WebhookEvent]) -> None:
    """Queue `events` for the enabled endpoints subscribed to them, in this transaction."""
    if not events:
        return
    accounts = sorted({e.account_id for e in events})
    endpoints = webhook_subscribers.rows(conn, accounts)
    if not endpoints:
        return
    heard = {account_id for _, account_id, _ in endpoints}
    ids = sorted(
        {int(e.data["id"]) for e in events if e.type == MESSAGE_STATUS and e.account_id in heard}
    )
    if ids:
        details = {row[0]: row[1:] for row in message_details.rows(conn, ids)}
        events = [described(e, details) for e in events]
    queue_outbox_item.run(conn, fan_out(events, endpoints))
