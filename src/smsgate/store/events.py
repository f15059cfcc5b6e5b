"""The event log, inside an open write transaction: every change of a message becomes a row of
`events`, numbered by the account's own counter (accounts.event_seq), so an account's seqs only
grow, with no gap a reader could skip, across every node writing to one database.

The counter is bumped by an UPDATE of the account's row, which holds that row until commit: two
transactions writing events of one account take turns (PostgreSQL; SQLite has one writer), and
a reader never sees seq n+1 committed before n. Accepts number their events from the account
rows they lock anyway (accepting.py); every other change calls `append`. Must not commit.

Event types and their data (JSON, None when the type says it all):
  accepted   {"parts": n}                        a message was accepted and paid for
  submitted  {"connector": c, "operator_id": o}  the operator took a part
  refused    {"command_status": n}               the operator refused a part (never taken)
  receipt    {"stat": s, "err": n}               the operator's receipt ended a part
  expired                                        a part's lifetime ran out before it left
  cancelled                                      the customer cancelled a part before it left
  refunded   {"amount": n}                       a part's reserved money went back
  received   {"inbound_id": i, "from": f, "to": t, "complete": b}
                                                 an inbound SMS routed to the account (its
                                                 message_id is None; inbound_items.py)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import orjson
from sqlalchemy import Connection

from smsgate.store.statements import bump_event_seq, insert_events

ACCEPTED = "accepted"
SUBMITTED = "submitted"
REFUSED = "refused"
RECEIPT = "receipt"
EXPIRED = "expired"
CANCELLED = "cancelled"
REFUNDED = "refunded"
RECEIVED = "received"  # inbound SMS: the inbound store appends it (inbound_items.py)

# (account_id, type, at, message_id, part_id, data JSON or None), before numbering.
EventRow = tuple[int, str, float, int | None, int | None, str | None]


def append(conn: Connection, rows: Sequence[EventRow]) -> None:
    """Number `rows` per account, in the order given, and insert them."""
    if not rows:
        return
    counts = Counter(row[0] for row in rows)
    last: dict[int, int] = {}
    for account_id in sorted(counts):  # sorted: two writers lock accounts in one order
        ((top,),) = bump_event_seq.rows(conn, counts[account_id], account_id)
        last[account_id] = int(top) - counts[account_id]
    numbered = []
    for account_id, kind, at, message_id, part_id, data in rows:
        seq = last[account_id] = last[account_id] + 1
        numbered.append((account_id, seq, kind, at, message_id, part_id, data))
    insert_events.run(conn, numbered)


def data_of(**fields: object) -> str:
    """An event's data as compact JSON (orjson: several a message on the receipt path)."""
    return orjson.dumps(fields).decode()
