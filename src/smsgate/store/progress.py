"""How parts move after accept, inside an open write transaction: load the parts a change
touches (locked), move them in memory by the status rules, settle their money, write them back
(one executemany for the parts whose operator fields moved, one for the others), then refold
the status of messages that may have ended and queue customer receipts. The hot statements
are plain driver SQL (plain_sql); only the cold loaders build SQLAlchemy queries.

Every path that changes a part goes through `save_parts`, so the money, fold and outbox rules
live in one place. Must not commit or roll back: the caller owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, select

from smsgate.domain.dlr_mask import wants
from smsgate.domain.status import PartState, Status, advance, fold, is_final, public_status
from smsgate.store import events
from smsgate.store.events import REFUSED, EventRow
from smsgate.store.records import CALLBACKS, LedgerKind, callback_payload
from smsgate.store.schema import (
    BILL_CHARGED,
    BILL_REFUNDED,
    BILL_RESERVED,
    message_callbacks,
    messages,
    parts,
)
from smsgate.store.statements import (
    callbacks_wanted,
    insert_ledger_entries,
    lock_messages,
    move_money,
    part_states,
    parts_by_id,
    parts_by_operator,
    queue_outbox,
    queue_outbox_item,
    receipts_wanted,
    save_message,
    save_part,
    save_part_end,
)
from smsgate.store.traffic_hours import HourCounts
from smsgate.store.webhook_events import queue_webhooks, status_event


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
    # Of the part's message, as loaded: how many parts it has, the status stored for it and
    # when it was created (its hour in traffic_hours).
    message_parts: int
    message_status: str
    message_created_at: float
    # The message's callback: None without one, else whether it wants every status.
    callback: bool | None
    # The state as loaded: what this change moved it from (its events, events.py).
    was: PartState = PartState.QUEUED
    # Its operator fields as loaded (`operator_fields`): a part whose change left them alone
    # is written without them (save_parts).
    loaded: tuple[Any, ...] | None = None

    def operator_fields(self) -> tuple[Any, ...]:
        """The fields a write names besides state, billing, done_at and error: connector,
        operator id, submit time and the claim."""
        return (
            self.connector,
            self.operator_id,
            self.submitted_at,
            self.claimed_by,
            self.claim_until,
        )

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
    messages.c.parts,
    messages.c.status,
    messages.c.created_at,
    message_callbacks.c.every_status,
)
# PartState(value) goes through EnumType.__call__ (~1 µs); a dict hit is a tenth of that.
_STATE_OF_VALUE = {int(s): s for s in PartState}


def _live(rows: Iterable[Any]) -> dict[int, LivePart]:
    found: dict[int, LivePart] = {}
    for row in rows:
        # By position (statements' parts_by_id column order is LivePart's field order): the
        # receipt path loads every part it moves, and a named Row per part is what plain_sql
        # exists to avoid.
        p = LivePart(*row)
        p.state = p.was = _STATE_OF_VALUE[p.state]
        p.loaded = p.operator_fields()
        found[p.id] = p
    return found


def load_parts(conn: Connection, where: ColumnElement[bool]) -> dict[int, LivePart]:
    """The parts matching `where`, locked against other writers until commit (cold paths:
    cancel, expire)."""
    query = (
        select(*_LIVE_COLUMNS)
        .join_from(parts, messages, parts.c.message_id == messages.c.id)
        .outerjoin(message_callbacks, message_callbacks.c.message_id == messages.c.id)
        .where(where)
        .order_by(parts.c.id)
        .with_for_update(of=parts)
    )
    return _live(conn.execute(query))


def load_parts_by_id(conn: Connection, part_ids: Sequence[int]) -> dict[int, LivePart]:
    """These parts (those that exist), locked until commit."""
    if not part_ids:
        return {}
    return _live(parts_by_id.rows(conn, sorted(set(part_ids))))


def load_parts_by_operator(
    conn: Connection, connectors: Sequence[str], operator_ids: Sequence[str]
) -> dict[int, LivePart]:
    """Submitted parts whose (connector, operator id) could be among these, locked until
    commit; the caller pairs them up."""
    if not connectors or not operator_ids:
        return {}
    return _live(parts_by_operator.rows(conn, sorted(set(connectors)), sorted(set(operator_ids))))


def save_parts(
    conn: Connection, changed: Iterable[LivePart], at: float, unsent_end: str = REFUSED
) -> HourCounts:
    """Write parts back, log their events, move their money, and refold the messages that may
    have ended. `unsent_end`: the event of a part that ended without the operator taking it
    (refused by it; a cancel says so; an expired part says expired).

    Returns the refolded messages' traffic_hours changes, for the caller to write as the last
    statement of its transaction (traffic_hours.py says why)."""
    traffic = HourCounts()
    ledger: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    rows: list[tuple[Any, ...]] = []
    # Parts whose operator fields did not move (a receipt, an expiry): an UPDATE that names an
    # indexed column rewrites that index's entry even when its value is unchanged.
    settled: list[tuple[Any, ...]] = []
    ended: dict[int, LivePart] = {}  # message id -> one of its parts that is final now
    log: list[EventRow] = []
    refunds: dict[tuple[int, int], int] = defaultdict(int)  # (account, message) -> amount
    for p in changed:
        billing = p.billing
        p.settle(ledger)
        if p.state != p.was:
            _part_events(log, p, billing, at, unsent_end)
        if p.billing == BILL_REFUNDED and billing != BILL_REFUNDED and p.price:
            refunds[(p.account_id, p.message_id)] += p.price
        # A message with a part that is not final folds to ENROUTE, as it already is.
        if is_final(p.state):
            ended[p.message_id] = p
        if p.operator_fields() == p.loaded:
            settled.append((int(p.state), p.billing, p.done_at, p.error, p.id))
            continue
        rows.append(
            (
                int(p.state),
                p.billing,
                p.connector,
                p.operator_id,
                p.submitted_at,
                p.done_at,
                p.error,
                p.claimed_by,
                p.claim_until,
                p.id,
            )
        )
    if not rows and not settled:
        return traffic
    save_part.many(conn, rows)
    save_part_end.many(conn, settled)
    events.append(conn, log)  # before move_money: accounts are locked in one order
    move_money.many(conn, ((d[0], d[1], d[2], a) for a, d in sorted(ledger.items()) if any(d)))
    # The refunds' ledger lines, in the transaction that gives the money back (store/ledger.py);
    # after the account rows are locked above, so the foreign key's lock waits on nobody.
    insert_ledger_entries.run(
        conn,
        [
            (account, LedgerKind.REFUND.value, amount, at, message)
            for (account, message), amount in sorted(refunds.items())
        ],
    )
    if ended:
        refold(conn, ended, at, traffic)
    return traffic


def _part_events(
    log: list[EventRow], p: LivePart, billing: int, at: float, unsent_end: str
) -> None:
    """The events of one part's move from `p.was` (and its money from `billing`)."""
    account, message, part = p.account_id, p.message_id, p.id
    if p.was < PartState.SUBMITTED <= p.state and p.operator_id is not None:
        data = events.data_of(connector=p.connector, operator_id=p.operator_id)
        log.append((account, events.SUBMITTED, p.submitted_at or at, message, part, data))
    if is_final(p.state) and not is_final(p.was):
        if p.operator_id is not None:
            data = events.data_of(stat=p.state.name, err=p.error)
            log.append((account, events.RECEIPT, p.done_at or at, message, part, data))
        elif p.state == PartState.EXPIRED:
            log.append((account, events.EXPIRED, at, message, part, None))
        elif unsent_end == events.REFUSED:
            data = events.data_of(command_status=p.error)
            log.append((account, events.REFUSED, p.done_at or at, message, part, data))
        else:
            log.append((account, unsent_end, at, message, part, None))
    if p.billing == BILL_REFUNDED and billing != BILL_REFUNDED:
        data = events.data_of(amount=p.price)
        log.append((account, events.REFUNDED, at, message, part, data))


def refold(conn: Connection, ended: dict[int, LivePart], at: float, traffic: HourCounts) -> None:
    """Recompute the status of these messages from their parts; when one turns final, queue
    a customer receipt for each of its submit_sm ids that asked for one, its callback and its
    `message.status` webhooks, and count its outcome in `traffic`. A one-part message
    folds from the part in hand; others read their parts."""
    folded: dict[int, tuple[Status, int]] = {}
    was: dict[int, str] = {}  # message id -> the status stored before this refold
    several = sorted(mid for mid, p in ended.items() if p.message_parts != 1)
    for mid, p in ended.items():
        if p.message_parts == 1:
            status = public_status(p.state)
            if status.value != p.message_status:
                folded[mid] = (status, p.error if status is not Status.ENROUTE else 0)
                was[mid] = p.message_status
    if several:
        stored = dict(lock_messages.rows(conn, several))
        states: dict[int, list[PartState]] = defaultdict(list)
        errors: dict[int, int] = {}
        for mid, state, error in part_states.rows(conn, several):
            states[mid].append(_STATE_OF_VALUE[state])
            if error and mid not in errors:
                errors[mid] = error
        for mid in several:
            if mid not in stored:
                continue
            status = fold(states[mid])
            if status.value != stored[mid]:
                folded[mid] = (status, errors.get(mid, 0) if status is not Status.ENROUTE else 0)
                was[mid] = stored[mid]
    if not folded:
        return
    save_message.many(
        conn,
        (
            (status.value, None if status is Status.ENROUTE else at, error, mid)
            for mid, (status, error) in sorted(folded.items())
        ),
    )
    queue_callbacks(
        conn,
        {
            mid: (ended[mid].account_id, status, error)
            for mid, (status, error) in folded.items()
            if ended[mid].callback is not None
        },
        at,
    )
    finished = sorted(mid for mid, (status, _) in folded.items() if status is not Status.ENROUTE)
    if finished:
        _queue_finished(conn, ended, folded, finished, at)
    for mid, (status, _) in folded.items():
        p = ended[mid]
        traffic.moved(p.account_id, p.message_created_at, was[mid], status.value)


def _queue_finished(
    conn: Connection,
    ended: dict[int, LivePart],
    folded: dict[int, tuple[Status, int]],
    finished: list[int],
    at: float,
) -> None:
    """The webhooks and customer receipts of messages that turned final."""
    queue_webhooks(
        conn,
        [
            status_event(ended[mid].account_id, mid, folded[mid][0], folded[mid][1], at)
            for mid in finished
        ],
    )
    queue_outbox.many(
        conn,
        (
            (ended[mid].account_id, mid, pdu_id, folded[mid][0].value, folded[mid][1], at)
            for mid, pdu_id in receipts_wanted.rows(conn, finished)
        ),
    )


def queue_callbacks(
    conn: Connection, changed: dict[int, tuple[int, Status, int]], at: float
) -> None:
    """Queue a callback for each of these messages (id -> account, its new status, error)
    that has a callback URL wanting that status: a final one its dlr_mask names (all by
    default), ENROUTE only when it asked for every status."""
    if not changed:
        return
    rows = []
    for mid, url, method, every_status, mask in callbacks_wanted.rows(conn, sorted(changed)):
        account_id, status, error = changed[mid]
        if not wants(status, every_status, mask):
            continue
        payload = callback_payload(url, method)
        rows.append((account_id, CALLBACKS, mid, status.value, error, payload, at, None))
    queue_outbox_item.run(conn, rows)


def announce_submitted(conn: Connection, answered: Iterable[LivePart], at: float) -> None:
    """Messages whose parts the operator just took are on their way (ENROUTE): a callback
    for those that asked for every status, and a message.status webhook for the endpoints
    subscribed to every change (one per message, not per part)."""
    enroute = {p.message_id: p.account_id for p in answered if not is_final(p.state)}
    if not enroute:
        return
    queue_callbacks(
        conn,
        {
            p.message_id: (p.account_id, Status.ENROUTE, 0)
            for p in answered
            if p.callback and not is_final(p.state)
        },
        at,
    )
    queue_webhooks(
        conn,
        [
            status_event(account_id, mid, Status.ENROUTE, 0, at)
            for mid, account_id in sorted(enroute.items())
        ],
    )
