"""What the outbox pump hands items to: one way of reaching a customer (the SMPP customer
bind today, an HTTP webhook next). A transport delivers and reports; it never reads or marks
rows, so every store rule (durability, order, give-up) stays in the pump.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from typing import Protocol

from smsgate.gateway.views import OutboxAttempt, OutboxItem
from smsgate.immutable import record

__all__ = [
    "Delivered",
    "OutboxAttempt",
    "OutboxItem",
    "Outcome",
    "Refused",
    "Transport",
    "Unanswered",
]


class _Answer(enum.Enum):
    DELIVERED = "delivered"
    UNANSWERED = "unanswered"


# The customer took the item: it is marked done.
Delivered = _Answer.DELIVERED
# No answer, or the way to the customer went away: tried again later, not counted as a "no".
Unanswered = _Answer.UNANSWERED


@record
class Refused:
    """The customer said no. Counted towards the pump's give-up rule; `final` (the customer
    said it will never take it) gives it up at once. `detail` is for the log."""

    detail: str
    final: bool = False


# A transport that decides retries itself (HTTP: backoff for 24 h, then a dead letter) answers
# with the attempt as the store logs it: delivered, due again at `retry_at`, or dead.
Outcome = _Answer | Refused | OutboxAttempt


class Transport(Protocol):
    """One way items reach a customer. `kind` names the items it carries ("receipts"): it
    keys the per-account lease, so two nodes never send one account's items of a kind."""

    @property
    def kind(self) -> str: ...

    def ready_accounts(self) -> Collection[int]:
        """Accounts this transport can reach from this node right now."""

    def sendable(self, account_id: int, items: Sequence[OutboxItem]) -> int:
        """How many of `items` (oldest first) may go now: a prefix, since items go in order.
        The SMPP transport holds back receipts whose submit_sm_resp may be unwritten."""

    async def deliver(
        self, account_id: int, items: Sequence[OutboxItem]
    ) -> Sequence[Outcome] | None:
        """Send `items` in order; one outcome per item. None: the account cannot be reached
        now (its bind went away); nothing was sent and the items stay pending."""
