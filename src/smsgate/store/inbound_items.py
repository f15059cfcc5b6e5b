"""What an inbound SMS routed to an account adds to the transaction that stores it: an outbox
item of kind INBOUND (the SMPP door's receiving binds take it), a `received` event in the
account's event log, and a `message.inbound` webhook event for its subscribed endpoints. Both
stores build them here, so they queue and log the same thing.

Only routed messages add any: an unroutable message has no account to tell (the admin sees it).
"""

from __future__ import annotations

import json
from typing import Any

from smsgate.store.events import RECEIVED, EventRow, data_of
from smsgate.store.records import INBOUND, MESSAGE_INBOUND, NewInbound, NewOutboxItem
from smsgate.store.webhook_events import WebhookEvent


def inbound_item(inbound_id: int, m: NewInbound) -> NewOutboxItem | None:
    if m.account_id is None:
        return None
    payload = {
        "id": inbound_id,
        "from": m.source,
        "to": m.destination,
        "text": m.text,
        "complete": m.parts >= m.total,
    }
    return NewOutboxItem(
        account_id=m.account_id,
        kind=INBOUND,
        created_at=m.received_at,
        payload=json.dumps(payload, ensure_ascii=False),
    )


def inbound_data(inbound_id: int, m: NewInbound) -> dict[str, Any]:
    """The message as GET /api/v1/inbound shows it, so a webhook receiver and a poller read
    one shape."""
    return {
        "id": inbound_id,
        "from": m.source,
        "to": m.destination,
        "text": m.text,
        "keyword": m.keyword or None,
        "parts": m.parts,
        "total": m.total,
        "complete": m.parts >= m.total,
        "received_at": m.received_at,
    }


def inbound_event(inbound_id: int, m: NewInbound) -> WebhookEvent | None:
    """`message.inbound` for the account's endpoints subscribed to it."""
    if m.account_id is None:
        return None
    return WebhookEvent(m.account_id, MESSAGE_INBOUND, inbound_data(inbound_id, m), m.received_at)


def inbound_log_row(inbound_id: int, m: NewInbound) -> EventRow | None:
    """The `received` event of the account's log (no message_id: that names sent messages;
    the data carries the inbound id, the cursor of GET /api/v1/inbound)."""
    if m.account_id is None:
        return None
    fields = {"inbound_id": inbound_id, "from": m.source, "to": m.destination}
    data = data_of(**fields, complete=m.parts >= m.total)
    return (m.account_id, RECEIVED, m.received_at, None, None, data)
