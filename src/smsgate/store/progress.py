"""How parts move after accept, inside an open write transaction: load the parts a change
touches (locked), move them in memory by the status rules, settle their money, write them back
in one executemany, then refold their messages' status and queue customer receipts.

Every path that changes a part goes through `PartChange.save`, so the money, fold and outbox
rules live in one place. Must not commit or roll back: the caller owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, bindparam, select

from smsgate.domain.status import PartState, Status, advance, fold, is_final
from smsgate.store.schema import (
    BILL_CHARGED,
    BILL_REFUNDED,
    BILL_RESERVED,
    accounts,
    messages,
    outbox,
    parts,
    receipt_requests,
)


@dataclass(slots=True)
class LivePart:
    """One part as a change sees it; `settle` keeps its money in step with its state."""

    id: int
    message_id: int
    account_id: int
    price: int
    state: PartState
    billing: int
    connector: str | None
    operator_id: str | None
    submitted_at: float | None
    done_at: float | None
    error: int
    claimed_by: int | None
    claim_until: float | None

    def report(self, state: PartState, error: int, at: float) -> None:
        """Move forward by a report (never back); a final state ends the claim."""
        new = advance(self.state, state)
        if new == self.state:
            return
        self.state = new
        if is_final(new):
            self.done_at = at
            self.error = error
            self.claimed_by = self.claim_until = None

    def settle(self, ledger: dict[int, list[int]]) -> None:
        """Charge a part the operator took, refund one that ended without it; once each."""
        if self.billing != BILL_RESERVED:
            return
        delta = ledger[self.account_id]  # [balance, reserved, charged]
        if self.operator_id is not None:
            self.billing = BILL_CHARGED
            delta[1] -= self.price
            delta[2] += self.price
        elif is_final(self.state):
            self.billing = BILL_REFUNDED
            delta[1] -= self.price
            delta[0] += self.price


_LIVE_COLUMNS = (
    parts.c.id,
    parts.c.message_id,
    messages.c.account_id,
    messages.c.price_per_part,
    parts.c.state,
    parts.c.billing,
    parts.c.connector,
    parts.c.operator_id,
    parts.c.submitted_at,
    parts.c.done_at,
    parts.c.error,
    parts.c.claimed_by,
    parts.c.claim_until,
)

_save_part = (
    parts.update()
    .where(parts.c.id == bindparam("p_id"))
    .values(
        state=bindparam("p_state"),
        billing=bindparam("p_billing"),
        connector=bindparam("p_connector"),
        operator_id=bindparam("p_operator_id"),
        submitted_at=bindparam("p_submitted_at"),
        done_at=bindparam("p_done_at"),
        error=bindparam("p_error"),
        claimed_by=bindparam("p_claimed_by"),
        claim_until=bindparam("p_claim_until"),
    )
)

_move_money = (
    accounts.update()
    .where(accounts.c.id == bindparam("a_id"))
    .values(
        balance=accounts.c.balance + bindparam("a_balance"),
        reserved=accounts.c.reserved + bindparam("a_reserved"),
        charged=accounts.c.charged + bindparam("a_charged"),
    )
)

_save_message = (
    messages.update()
    .where(messages.c.id == bindparam("m_id"))
    .values(
        status=bindparam("m_status"), done_at=bindparam("m_done_at"), error=bindparam("m_error")
    )
)


def load_parts(
    conn: Connection, where: ColumnElement[bool], *, limit: int | None = None
) -> dict[int, LivePart]:
    """The parts matching `where`, locked against other writers until commit."""
    query = (
        select(*_LIVE_COLUMNS)
        .join_from(parts, messages, parts.c.message_id == messages.c.id)
        .where(where)
        .order_by(parts.c.id)
        .with_for_update(of=parts)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = conn.execute(query)
    return {
        row.id: LivePart(
            id=row.id,
            message_id=row.message_id,
            account_id=row.account_id,
            price=row.price_per_part,
            state=PartState(row.state),
            billing=row.billing,
            connector=row.connector,
            operator_id=row.operator_id,
            submitted_at=row.submitted_at,
            done_at=row.done_at,
            error=row.error,
            claimed_by=row.claimed_by,
            claim_until=row.claim_until,
        )
        for row in rows
    }


def save_parts(conn: Connection, changed: Iterable[LivePart], at: float) -> None:
    """Write parts back, move their money, and refold their messages."""
    ledger: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    rows: list[dict[str, Any]] = []
    message_ids: set[int] = set()
    for p in changed:
        p.settle(ledger)
        message_ids.add(p.message_id)
        rows.append(
            {
                "p_id": p.id,
                "p_state": int(p.state),
                "p_billing": p.billing,
                "p_connector": p.connector,
                "p_operator_id": p.operator_id,
                "p_submitted_at": p.submitted_at,
                "p_done_at": p.done_at,
                "p_error": p.error,
                "p_claimed_by": p.claimed_by,
                "p_claim_until": p.claim_until,
            }
        )
    if not rows:
        return
    conn.execute(_save_part, rows)
    money = [
        {"a_id": a, "a_balance": d[0], "a_reserved": d[1], "a_charged": d[2]}
        for a, d in sorted(ledger.items())
        if any(d)
    ]
    if money:
        conn.execute(_move_money, money)
    refold(conn, sorted(message_ids), at)


def refold(conn: Connection, message_ids: Sequence[int], at: float) -> None:
    """Recompute the status of these messages from their parts; when one turns final, queue
    a customer receipt for each of its submit_sm ids that asked for one."""
    if not message_ids:
        return
    # Locking the messages before reading their parts makes two nodes finishing parts of one
    # message take turns, so the second one sees the first one's parts (PostgreSQL).
    current = {
        row.id: row
        for row in conn.execute(
            select(messages.c.id, messages.c.account_id, messages.c.status)
            .where(messages.c.id.in_(message_ids))
            .order_by(messages.c.id)
            .with_for_update()
        )
    }
    states: dict[int, list[PartState]] = defaultdict(list)
    errors: dict[int, int] = {}
    for row in conn.execute(
        select(parts.c.message_id, parts.c.state, parts.c.error).where(
            parts.c.message_id.in_(message_ids)
        )
    ):
        states[row.message_id].append(PartState(row.state))
        if row.error and row.message_id not in errors:
            errors[row.message_id] = row.error
    updates: list[dict[str, Any]] = []
    finished: dict[int, tuple[int, Status, int]] = {}
    for message_id in message_ids:
        stored = current.get(message_id)
        if stored is None:
            continue
        status = fold(states[message_id])
        if status.value == stored.status:
            continue
        final = status is not Status.ENROUTE
        error = errors.get(message_id, 0) if final else 0
        updates.append(
            {
                "m_id": message_id,
                "m_status": status.value,
                "m_done_at": at if final else None,
                "m_error": error,
            }
        )
        if final:
            finished[message_id] = (stored.account_id, status, error)
    if updates:
        conn.execute(_save_message, updates)
    if not finished:
        return
    wanted = conn.execute(
        select(receipt_requests.c.message_id, receipt_requests.c.pdu_id)
        .where(receipt_requests.c.message_id.in_(sorted(finished)))
        .order_by(receipt_requests.c.message_id, receipt_requests.c.pdu_id)
    )
    items = [
        {
            "account_id": finished[row.message_id][0],
            "message_id": row.message_id,
            "pdu_id": row.pdu_id,
            "status": finished[row.message_id][1].value,
            "error": finished[row.message_id][2],
            "created_at": at,
        }
        for row in wanted
    ]
    if items:
        conn.execute(outbox.insert(), items)
