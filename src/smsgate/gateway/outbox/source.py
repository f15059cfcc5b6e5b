"""Where the pump reads items from: the store's outbox rows, offered per account either to
any node (`AllAccounts`) or only to the node holding the account's lease (`LeasedAccounts`,
so two nodes with binds of one account do not both send every item).

The rows were queued by the store in the same transaction as the change they report; these
classes only choose whose rows to read and mark them done.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from smsgate.gateway.views import RECEIPTS, OutboxAttempt, OutboxItem
from smsgate.store import roles


class OutboxSource(Protocol):
    """What one pump reads: `accounts(ready)` are those among `ready` (the accounts its
    transport reaches here) whose items this node delivers now."""

    async def accounts(self, ready: Collection[int]) -> list[int]: ...
    async def pending(self, account_id: int, limit: int, after: int = 0) -> list[OutboxItem]:
        """Up to `limit` of the account's items due now, oldest first, with ids above `after`."""

    async def done(self, item_ids: Sequence[int]) -> None: ...
    async def attempted(self, attempts: Sequence[OutboxAttempt]) -> None: ...


@dataclass(slots=True)
class AllAccounts:
    """Every account with pending rows of a kind, for a node that is alone on its database."""

    rows: roles.Outbox
    kind: str = RECEIPTS

    async def accounts(self, ready: Collection[int]) -> list[int]:
        if not ready:
            return []
        return [a for a in await self.rows.outbox_accounts(kind=self.kind) if a in ready]

    async def pending(self, account_id: int, limit: int, after: int = 0) -> list[OutboxItem]:
        return await self.rows.outbox_pending(account_id, limit, kind=self.kind, after=after)

    async def done(self, item_ids: Sequence[int]) -> None:
        await self.rows.outbox_done(item_ids)

    async def attempted(self, attempts: Sequence[OutboxAttempt]) -> None:
        await self.rows.outbox_attempted(attempts)


def lease_key(kind: str, account_id: int) -> str:
    """`receipts:<account>` for SMPP receipts: one node delivers an account's items of a kind."""
    return f"{kind}:{account_id}"


@dataclass(slots=True)
class LeasedAccounts:
    """An account's rows are offered only to the node holding `<kind>:<account>`. A lease is
    taken only for accounts ready here and given back when they stop being ready; another
    node takes over once the ttl runs out."""

    rows: roles.Outbox
    leases: roles.Leases
    kind: str
    holder: str
    ttl: float = 5.0
    clock: Callable[[], float] = time.time
    # Seconds an account's rows are left to other nodes before this one bids for its lease
    # (0: at once). A node that has other work to do sets it, so a node with less does this.
    defer: float = 0.0
    # The accounts whose lease this node holds -> when it was last taken (a successful take).
    held: dict[int, float] = field(default_factory=dict)
    # When deferring: the accounts with rows this node does not hold -> when first seen so.
    waiting: dict[int, float] = field(default_factory=dict)

    async def accounts(self, ready: Collection[int]) -> list[int]:
        # By membership, not set difference: a transport that reaches every account (HTTP)
        # answers with a collection that contains them all but lists none.
        for account_id in [a for a in self.held if a not in ready]:
            del self.held[account_id]
            await self.leases.release_lease(lease_key(self.kind, account_id), self.holder)
        if not ready:
            return []
        mine: list[int] = []
        listed = await self.rows.outbox_accounts(kind=self.kind)
        if self.defer:
            self.waiting = {a: self.waiting.get(a, self.clock()) for a in listed}
        for account_id in listed:
            if account_id not in ready:
                continue
            now = self.clock()
            if account_id not in self.held and now - self.waiting.get(account_id, 0) < self.defer:
                continue  # left to the others for now
            # The pump asks every 100 ms; a lease taken within a third of its ttl still has
            # two thirds to run, so it is not written again (each take is a write
            # transaction, and every other node's accepts wait on the database's write lock).
            taken = self.held.get(account_id)
            if taken is not None and now - taken < self.ttl / 3:
                mine.append(account_id)
            elif await self.leases.take_lease(
                lease_key(self.kind, account_id), self.holder, now, self.ttl
            ):
                self.held[account_id] = now
                mine.append(account_id)
            else:
                self.held.pop(account_id, None)
        return mine

    async def pending(self, account_id: int, limit: int, after: int = 0) -> list[OutboxItem]:
        return await self.rows.outbox_pending(account_id, limit, kind=self.kind, after=after)

    async def done(self, item_ids: Sequence[int]) -> None:
        await self.rows.outbox_done(item_ids)

    async def attempted(self, attempts: Sequence[OutboxAttempt]) -> None:
        await self.rows.outbox_attempted(attempts)
