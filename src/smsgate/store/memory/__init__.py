"""MemoryStore: every role of the store (roles.py) in one process's memory, with the SQL store's
semantics (money conserved, status only forward, duplicates within the window, rate limits,
claims, leases, outbox order, held parts), for unit tests of the rooms above the store.

Not durable and not for production: nothing survives the process. Stores made by `sibling()`
share one state, as two nodes share one database. Each call yields to the event loop once and
then runs to its end without awaiting, so a call is one transaction, as a SQL write is; and
no public method calls another, so a test that wraps one (to count it or to fail it) sees only
its own callers.
The contract tests (tests/store/contract/) hold it to the same behaviour as SQLite and
PostgreSQL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smsgate.store.interface import Store
from smsgate.store.memory.accounts import MemoryAccounts
from smsgate.store.memory.claims import MemoryClaims
from smsgate.store.memory.held import MemoryHeldParts
from smsgate.store.memory.idempotency import MemoryIdempotencyKeys
from smsgate.store.memory.inbound import MemoryInbound
from smsgate.store.memory.ledger import MemoryLedger
from smsgate.store.memory.login_failures import MemoryLoginFailures
from smsgate.store.memory.messages import MemoryMessages
from smsgate.store.memory.outbox import MemoryEvents, MemoryLeases, MemoryOutbox
from smsgate.store.memory.rate_limits import MemoryRequestLimits
from smsgate.store.memory.receipts import MemoryReceipts
from smsgate.store.memory.retention import MemoryRetention
from smsgate.store.memory.state import MemoryState
from smsgate.store.memory.webhooks import MemoryWebhooks

__all__ = ["MemoryState", "MemoryStore"]


class MemoryStore(
    MemoryAccounts,
    MemoryMessages,
    MemoryClaims,
    MemoryReceipts,
    MemoryOutbox,
    MemoryEvents,
    MemoryLeases,
    MemoryHeldParts,
    MemoryInbound,
    MemoryRetention,
    MemoryIdempotencyKeys,
    MemoryLoginFailures,
    MemoryRequestLimits,
    MemoryWebhooks,
    MemoryLedger,
):
    """Every role of the store in memory; `state` shared with other nodes' stores, if given."""

    def sibling(self, node_id: int) -> MemoryStore:
        """Another node on the same data."""
        return MemoryStore(node_id=node_id, state=self.state)


if TYPE_CHECKING:
    _every_role: type[Store] = MemoryStore  # mypy: the memory store implements every role
