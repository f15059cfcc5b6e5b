"""What an operator sees and changes across accounts and nodes, for the dashboard's operator
pages: accounts with their balance, rate limit and usage; top-ups, disabling, sender names and
tariffs; the nodes with the leases they hold; the queue; inbound SMS no account took.

A service over the store's roles, like SelfService; it never decides who may call it (the
dashboard checks the session's account is an operator). Values are checked by the caller with
the same rules as `smsgate admin` (admin/inputs.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from smsgate.gateway.accounts import AccountCache
from smsgate.immutable import record
from smsgate.store.records import AccountSummary, Balance, InboundRecord, Tariff, TrafficRow
from smsgate.store.roles import AccountAdmin, Claims, Inbound, Leases, Ledger

NODE_PREFIX = "node:"
CONNECTOR_PREFIX = "connector:"
_HOUR = 3_600  # the usage's buckets: whole hours are counted once (store/traffic_hours.py)


class OperatorStore(AccountAdmin, Ledger, Leases, Inbound, Claims, Protocol):
    """The roles the operator's pages read and change."""


@record
class NodeLease:
    """A live node (its node id's lease) and the connectors whose leases its holder has."""

    node_id: int
    holder: str
    expires_at: float
    connectors: tuple[str, ...]


class OperatorDesk:
    def __init__(
        self,
        store: OperatorStore,
        accounts: AccountCache,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._accounts = accounts
        self._clock = clock

    async def accounts(self) -> list[AccountSummary]:
        return await self._store.list_accounts()

    async def usage(self, account_id: int, since: float) -> TrafficRow:
        """The account's messages sent since `since`, and how many of them are delivered and
        failed by now: the sum of hourly buckets, which the store reads from its per-hour
        counts for the whole hours and from the messages only for the two partial ones."""
        now = self._clock()
        rows = await self._store.traffic(account_id, since, now + 1, _HOUR)
        return TrafficRow(
            since,
            sum(r.sent for r in rows),
            sum(r.delivered for r in rows),
            sum(r.failed for r in rows),
        )

    async def top_up(self, account_id: int, amount: int) -> Balance:
        return await self._store.top_up(account_id, amount)

    async def set_active(self, account_id: int, active: bool) -> None:
        """Disable or enable an account; this node's caches forget it at once (other nodes
        within their cache's lifetime, as after `smsgate admin accounts disable`)."""
        await self._store.set_active(account_id, active)
        self._accounts.forget()

    async def add_sender(self, account_id: int, name: str) -> None:
        await self._store.add_originator(account_id, name)
        self._accounts.forget()

    async def remove_sender(self, account_id: int, name: str) -> bool:
        removed = await self._store.remove_originator(account_id, name)
        self._accounts.forget()
        return removed

    async def tariffs(self, account_id: int) -> list[Tariff]:
        """The account's own prices by prefix (the default plan's are not included)."""
        return [t for t in await self._store.tariffs(account_id) if t.account_id == account_id]

    async def set_tariff(self, account_id: int, prefix: str, price: int) -> None:
        await self._store.set_tariff(Tariff(account_id=account_id, prefix=prefix, price=price))

    async def remove_tariff(self, account_id: int, prefix: str) -> bool:
        return await self._store.remove_tariff(account_id, prefix)

    async def nodes(self) -> list[NodeLease]:
        """Every node whose node-id lease is live, with the connectors its holder holds."""
        leases = await self._store.live_leases(self._clock())
        held: dict[str, list[str]] = {}
        for key, (holder, _) in leases.items():
            if key.startswith(CONNECTOR_PREFIX):
                held.setdefault(holder, []).append(key.removeprefix(CONNECTOR_PREFIX))
        found = [
            NodeLease(
                int(key.removeprefix(NODE_PREFIX)),
                holder,
                expires_at,
                tuple(sorted(held.get(holder, []))),
            )
            for key, (holder, expires_at) in leases.items()
            if key.startswith(NODE_PREFIX) and key.removeprefix(NODE_PREFIX).isdigit()
        ]
        return sorted(found, key=lambda node: node.node_id)

    async def queue_depth(self) -> int:
        """Parts waiting to be sent, on every node."""
        return await self._store.queue_depth()

    async def awaiting_receipts(self) -> dict[str, int]:
        """Parts the operator took and has not reported on yet, by connector, on every node."""
        return await self._store.awaiting_receipts()

    async def unroutable(self, after: int, limit: int) -> list[InboundRecord]:
        """Inbound SMS that no account's number took, oldest first from id `after`."""
        return await self._store.unroutable(after, limit)
