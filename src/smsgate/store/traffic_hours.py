"""Each account's messages per UTC hour of their creation (table traffic_hours): how many were
created, and how many of those are delivered and failed by now. The charts' traffic reads these
rows, at most 24 a day, instead of counting a month of messages (sql_ledger.traffic).

Kept in the transaction that changes what it counts, by the one path each change has: a
message created (accepting.accept_batch; held_parts.refuse, already REJECTD), a message whose
status is refolded (progress.refold, which every part change goes through: receipts, submit
refusals, both expiries, cancel; save_parts hands its HourCounts to the caller), a message
deleted (sql_retention.delete_messages). Each gathers its changes in an HourCounts and writes
them as the LAST statement of its transaction, one upsert per (account, hour) it touched, not
one per message: on PostgreSQL an hour's row is locked from then to the commit, so it must not
be held while waiting for another lock (an accept holds its account row, which an outbox
insert's foreign key waits on). No foreign key here either, for the same reason.
"""

from __future__ import annotations

import math
from collections import defaultdict

from sqlalchemy import Connection

from smsgate.domain.status import Status
from smsgate.store.statements import add_traffic_hours

HOUR = 3_600
_ENROUTE = Status.ENROUTE.value
DELIVERED = frozenset({Status.DELIVRD.value})
FAILED = frozenset({Status.UNDELIV.value, Status.EXPIRED.value, Status.REJECTD.value})


def hour_of(created_at: float) -> int:
    """Hours since the epoch, as the SQL stores compute it (a float division, then floor)."""
    return math.floor(created_at / HOUR)


def _outcome(status: str) -> tuple[int, int]:
    """(delivered, failed) that a message of this status counts for."""
    return (int(status in DELIVERED), int(status in FAILED))


class HourCounts:
    """Changes to traffic_hours, gathered over a transaction: (account, hour) -> [sent,
    delivered, failed] to add."""

    __slots__ = ("_rows",)

    def __init__(self) -> None:
        self._rows: defaultdict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0])

    def created(self, account_id: int, created_at: float, status: str = _ENROUTE) -> None:
        row = self._rows[(account_id, hour_of(created_at))]
        row[0] += 1
        if status != _ENROUTE:  # an accepted message is ENROUTE: nothing more to count
            delivered, failed = _outcome(status)
            row[1] += delivered
            row[2] += failed

    def moved(self, account_id: int, created_at: float, was: str, now: str) -> None:
        before, after = _outcome(was), _outcome(now)
        if before == after:
            return
        row = self._rows[(account_id, hour_of(created_at))]
        row[1] += after[0] - before[0]
        row[2] += after[1] - before[1]

    def deleted(self, account_id: int, created_at: float, status: str) -> None:
        row = self._rows[(account_id, hour_of(created_at))]
        delivered, failed = _outcome(status)
        row[0] -= 1
        row[1] -= delivered
        row[2] -= failed

    def write(self, conn: Connection) -> None:
        """One upsert per (account, hour) whose counts changed, in key order (two writers
        touching the same rows lock them in one order)."""
        add_traffic_hours.many(
            conn,
            (
                (account_id, hour, sent, delivered, failed)
                for (account_id, hour), (sent, delivered, failed) in sorted(self._rows.items())
                if sent or delivered or failed
            ),
        )
