"""The outbox as the rest of the gateway holds it: the store's rows, and how this node shares
them with others. A door that is a transport asks it for its pump (`pump(transport)`), so no
door ever sees the store.
"""

from __future__ import annotations

from typing import Protocol

from smsgate.gateway.outbox.pump import OutboxPump, PumpPolicy
from smsgate.gateway.outbox.source import AllAccounts, LeasedAccounts, OutboxSource
from smsgate.gateway.outbox.transport import Transport
from smsgate.immutable import record
from smsgate.store import roles


@record
class OutboxLeases:
    """Many nodes on one database: an account's items of a kind go through one node at a
    time, the holder of `<kind>:<account>` (ttl in seconds)."""

    table: roles.Leases
    holder: str
    ttl: float = 5.0


class OutboxRows(roles.Outbox, roles.Changes, Protocol):
    """The outbox's rows, and the store's sign of commits its pumps rest on."""


class Outbox:
    """Rows of every kind (store/records.py: receipts, callbacks, ...) in one table; each
    pump reads only its transport's kind."""

    def __init__(self, rows: OutboxRows, leases: OutboxLeases | None = None) -> None:
        self._rows = rows
        self._leases = leases

    def pump(
        self, transport: Transport, policy: PumpPolicy | None = None, *, defer: float = 0.0
    ) -> OutboxPump:
        """A pump (not started) that hands this outbox's items of `transport.kind` to it;
        with leases, it leaves an account's items to other nodes for `defer` seconds first."""
        source: OutboxSource
        if self._leases is None:
            source = AllAccounts(self._rows, transport.kind)
        else:
            lease = self._leases
            source = LeasedAccounts(
                self._rows, lease.table, transport.kind, lease.holder, lease.ttl, defer=defer
            )
        return OutboxPump(source, transport, policy, changes=self._rows)
