"""Holds a customer's receipts back while a submit whose submit_sm_resp is not yet written is
in progress: a receipt must never reach the customer before the id it refers to."""

from __future__ import annotations

import time
from collections.abc import Callable

from smsgate.gateway.outbox.transport import OutboxItem

_GATE_MAX_AGE = 30.0  # seconds; a response that was never written stops holding receipts back


class ResponseGate:
    """The door opens a ticket before it hands a submit to the gateway and closes it once the
    response bytes were written. Every message the submit creates has created_at >= the
    ticket's time, so a receipt whose message is not older than an open ticket of its account
    waits. Tickets opened later never hold back older receipts, so steady traffic starves
    nothing. The clock must be the submitter's (wall time).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._open: dict[int, tuple[int, float]] = {}  # ticket -> (account_id, opened_at)
        self._next = 0

    def open(self, account_id: int) -> int:
        self._next += 1
        self._open[self._next] = (account_id, self._clock())
        return self._next

    def close(self, ticket: int) -> None:
        self._open.pop(ticket, None)

    def holds(self, item: OutboxItem) -> bool:
        since = self.holding_since(item.account_id)
        return since is not None and since <= item.submitted_at

    def holding_since(self, account_id: int) -> float | None:
        """When the oldest open ticket of the account was opened: its receipts of messages
        created since then wait. None: nothing is held. One pass over the open tickets, so a
        batch of receipts is checked against it without a pass per receipt."""
        now = self._clock()
        oldest: float | None = None
        for owner, opened_at in self._open.values():
            if (
                owner == account_id
                and now - opened_at < _GATE_MAX_AGE
                and (oldest is None or opened_at < oldest)
            ):
                oldest = opened_at
        return oldest
