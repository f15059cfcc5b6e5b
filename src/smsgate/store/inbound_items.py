"""The outbox item an inbound SMS queues for its account, in the transaction that stores it:
one of kind INBOUND (the SMPP door's receiving binds take it), its payload the JSON the
transport reads. Both stores build it here, so they queue the same thing.

Only routed messages queue one: an unroutable message has no account to tell.
"""

from __future__ import annotations

import json

from smsgate.store.records import INBOUND, NewInbound, NewOutboxItem


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
