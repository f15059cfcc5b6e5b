"""Leases that let many nodes share one database: a node id no live node shares (`node:<id>`),
and each operator connector bound by one node at a time (`connector:<name>`). (One node pumping
an account's outbox, `receipts:<account>`, is gateway/outbox/source.py's.)

A node that finds a lease it held taken by another holder stops trusting itself: the
connector is unbound at once and the node is told to stop (fail-stop), never left running
beside the new holder. A node that cannot renew a lease because the store does not answer
(the disk full, PostgreSQL restarting) cannot know whether another node took it: once the
lease's ttl has run out it unbinds the connector (all of them, when it is the node lease), and
binds again when the store answers and the lease is its own once more. It stops only if
another holder has the lease by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from smsgate.domain.ids import MAX_NODE_ID
from smsgate.gateway.store_trouble import is_store_trouble
from smsgate.log_limit import LimitedLog
from smsgate.store.roles import Leases

log = logging.getLogger(__name__)


class NoNodeId(Exception):
    """Every node id from the base upward is leased by a live node."""


class Bindable(Protocol):
    @property
    def name(self) -> str: ...
    async def start(self) -> None: ...
    async def close(self) -> None: ...


def default_holder() -> str:
    """A holder name no other process shares: host, pid and a random tail (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def node_key(node_id: int) -> str:
    return f"node:{node_id}"


def connector_key(name: str) -> str:
    return f"connector:{name}"


async def take_node_id(
    store: Leases,
    base: int,
    holder: str,
    ttl: float,
    *,
    patience: float = 0.0,
    clock: Callable[[], float] = time.time,
) -> int:
    """The configured id `base` if this holder gets its `node:<id>` lease within `patience`
    seconds, else the first free id above it.

    A node restarted after kill -9 under its previous holder name (holder_file.py) renews its
    own lease at once, and so hands back at once the parts its previous life had claimed. Only
    a restart under a new name has a reason to wait (up to one ttl) for its old id.
    """
    deadline = time.monotonic() + patience
    while not await store.take_lease(node_key(base), holder, clock(), ttl):
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
    else:
        return base
    for node_id in range(base + 1, MAX_NODE_ID + 1):
        if await store.take_lease(node_key(node_id), holder, clock(), ttl):
            return node_id
    raise NoNodeId(f"node ids {base}..{MAX_NODE_ID} are all held by live nodes")


@dataclass(slots=True)
class _Held:
    key: str
    ttl: float
    renewed_at: float  # last successful take, by the local clock


@dataclass(slots=True)
class _Live:
    """One round's reading of the leases table, for spreading connectors over the nodes."""

    holders: dict[str, str]  # lease key -> holder
    renewing: set[str]  # holders whose node lease was renewed within the last two rounds
    most: int  # connectors a node should hold at most...
    fewest: int  # ...and at least, spread evenly over the renewing nodes

    @classmethod
    def read(cls, leases: dict[str, tuple[str, float]], now: float, keeper: LeaseKeeper) -> _Live:
        # A node renews every round; one whose lease is getting old has stopped (it is dead,
        # and its lease just has not run out yet): it must not count as one to share with.
        fresh_after = now + keeper.node_ttl - 2 * keeper.interval
        renewing = {
            holder
            for key, (holder, expires_at) in leases.items()
            if key.startswith("node:") and expires_at > fresh_after
        }
        renewing.add(keeper.holder)
        count, nodes = len(keeper.connectors), len(renewing)
        return cls(
            {key: holder for key, (holder, _) in leases.items()},
            renewing,
            -(-count // nodes),
            count // nodes,
        )


@dataclass(slots=True)
class LeaseKeeper:
    """Renews the node lease and runs the connector leases: `await tick()` once (start binds
    what it can), then `run()` in the background; `on_lost(reason)` is called once when a
    held lease is gone. `await release()` gives every lease back (after connectors closed)."""

    store: Leases
    holder: str
    node_id: int
    connectors: Sequence[Bindable]
    on_lost: Callable[[str], None]
    node_ttl: float = 10.0
    connector_ttl: float = 3.0
    clock: Callable[[], float] = time.time
    # Leave a free connector to the other nodes for one round and bid only if it is still free
    # then: for the worker that also serves the SMPP door (see workers.worker_settings).
    defer: bool = False
    bound: set[str] = field(default_factory=set)  # connectors this node holds and started
    # The last round's reading of who holds which lease (key -> holder): what /health says of
    # the connectors another node binds. Stale by a round at most; empty until a round read it.
    seen: dict[str, str] = field(default_factory=dict)
    renewed: dict[str, float] = field(default_factory=dict)  # key -> last successful take
    _free_last_round: set[str] = field(default_factory=set)  # keys seen free, when deferring
    _node: _Held | None = None
    _lost: bool = False
    # The node lease ran out while the store did not answer: nothing is bound until it is
    # ours again.
    _suspended: bool = False
    # release() waits for a round in progress and stops later ones: a round finishing after
    # it could take a lease back, or reach a store the node has closed meanwhile.
    _stopping: bool = False
    _round: asyncio.Lock = field(default_factory=asyncio.Lock)
    # While the store is in trouble every round fails the same way: one line per kind in 5 s.
    _quiet: LimitedLog = field(default_factory=lambda: LimitedLog(log))

    @property
    def interval(self) -> float:
        # Renew three times per shortest ttl: one missed round never loses a lease.
        return min(self.node_ttl, self.connector_ttl) / 3

    async def tick(self) -> None:
        if self._lost:
            return
        now = self.clock()
        if self._node is None:
            self._node = _Held(node_key(self.node_id), self.node_ttl, now)
        live: _Live | None = None  # unread: bid for every connector, as a lone node would
        try:
            live = _Live.read(await self.store.live_leases(now), now, self)
            self.seen = live.holders
        except Exception as exc:
            self._failed("reading the leases", exc)
        # The node lease and the connector leases held or bid for, in one transaction: at rest
        # a round is most of what a node does, and each commit wakes every poller.
        bids: list[Bindable] = []
        holding = len(self.bound)  # and the bids so far count against our share
        for c in self.connectors:
            if c.name in self.bound:
                bids.append(c)
            elif self._may_bid(connector_key(c.name), live, holding):
                bids.append(c)
                holding += 1
        takes = [(self._node.key, self._node.ttl)]
        takes += [(connector_key(c.name), self.connector_ttl) for c in bids]
        taken: list[bool | None]
        try:
            taken = list(await self.store.take_leases(self.holder, now, takes))
        except Exception as exc:
            self._failed("renewing the leases", exc)
            taken = [None] * len(takes)  # unknown: a held lease counts as ours until its ttl
        renewed, outcomes = taken[0], list(zip(bids, taken[1:], strict=True))
        if renewed is False:
            # Connectors bid for in this round stay unbound: their leases go back at once.
            for connector, ours in outcomes:
                if ours and connector.name not in self.bound:
                    with contextlib.suppress(Exception):
                        await self.store.release_lease(connector_key(connector.name), self.holder)
            self._lose(f"node id {self.node_id}: lease {self._node.key} was lost")
            return
        if renewed:
            self._node.renewed_at = now
        elif now - self._node.renewed_at >= self._node.ttl:
            await self._suspend(now - self._node.renewed_at)
            return
        if renewed and self._suspended:
            self._suspended = False
            log.warning(
                "node %d: the store answers again and lease %s is ours: binding connectors",
                self.node_id,
                self._node.key,
            )
        for connector, ours in outcomes:
            await self._connector_taken(connector, ours, now)
        if live is not None:
            await self._give_back_excess(live)

    def held_elsewhere(self, connector: str) -> tuple[str, int | None] | None:
        """Another node's holder name and node id when it held `connector`'s lease at the last
        round (it binds it there), else None."""
        holder = self.seen.get(connector_key(connector))
        if holder is None or holder == self.holder or connector in self.bound:
            return None
        node_id = next(
            (
                int(key.removeprefix("node:"))
                for key, held_by in self.seen.items()
                if held_by == holder and key.startswith("node:")
            ),
            None,
        )
        return holder, node_id

    def _may_bid(self, key: str, live: _Live | None, holding: int) -> bool:
        """For a connector not bound here: free and within our share (`holding`: the
        connectors held here and those bid for so far this round). At our share a free
        connector is left to a node below its own; a node that stopped renewing its lease does
        not count as one (see _Live), so a dead node's connectors still move at once."""
        if live is None:
            return True
        holder = live.holders.get(key)
        if holder is not None and holder != self.holder:
            self._free_last_round.discard(key)
            return False  # held elsewhere: a bid would only cost a write
        if holding >= live.most:
            return False
        if self.defer and key not in self._free_last_round:
            self._free_last_round.add(key)
            return False  # another node may take it this round
        self._free_last_round.discard(key)
        return True

    async def _connector_taken(self, connector: Bindable, ours: bool | None, now: float) -> None:
        """What this round's take of a connector's lease means for its bind."""
        key = connector_key(connector.name)
        if ours:
            self.renewed[key] = now
        if connector.name in self.bound:
            if ours or (ours is None and now - self.renewed[key] < self.connector_ttl):
                return
            # Someone else may bind it now: unbind before anything else.
            await connector.close()
            self.bound.discard(connector.name)
            if ours is None:
                # Nobody is known to hold it: bid again once the store answers.
                log.error(
                    "connector %s: lease %s not renewed for %.1f s (the store does not "
                    "answer): unbound until the lease is ours again",
                    connector.name,
                    key,
                    now - self.renewed[key],
                )
                return
            self._lose(f"connector {connector.name}: lease {key} was lost")
        elif ours:
            log.info("node %d binds connector %s", self.node_id, connector.name)
            self.bound.add(connector.name)
            await connector.start()

    async def _give_back_excess(self, live: _Live) -> None:
        """Holding more than our share while a renewing node holds less than its own: unbind
        one connector and release its lease, so that node binds it on its next round."""
        if len(self.bound) <= live.most:
            return
        held = dict.fromkeys(live.renewing - {self.holder}, 0)
        for connector in self.connectors:
            holder = live.holders.get(connector_key(connector.name))
            if holder in held:
                held[holder] += 1
        if not any(count < live.fewest for count in held.values()):
            return
        name = max(self.bound)
        connector = next(c for c in self.connectors if c.name == name)
        log.info("node %d hands connector %s over to a node below its share", self.node_id, name)
        await connector.close()
        self.bound.discard(name)
        await self.store.release_lease(connector_key(name), self.holder)

    def _failed(self, what: str, exc: Exception) -> None:
        if is_store_trouble(exc):
            self._quiet.warning(what, "%s failed (%s: %s)", what, type(exc).__name__, exc)
        else:
            log.exception("%s failed", what)

    async def _suspend(self, unanswered: float) -> None:
        """The node lease ran out unrenewed: another node may take this node's id or its
        connectors from now on, so nothing stays bound here until the lease is ours again."""
        if not self._suspended:
            self._suspended = True
            log.error(
                "node %d: lease %s not renewed for %.1f s (the store does not answer): "
                "connectors unbound until it answers and the lease is ours again",
                self.node_id,
                self._node.key if self._node else "",
                unanswered,
            )
        for connector in self.connectors:
            if connector.name in self.bound:
                await connector.close()
                self.bound.discard(connector.name)

    def _lose(self, reason: str) -> None:
        if not self._lost:
            self._lost = True
            log.error("%s: this node stops", reason)
            self.on_lost(reason)

    async def run(self) -> None:
        while not self._lost:
            await asyncio.sleep(self.interval)
            async with self._round:
                if self._stopping:
                    return
                try:
                    await self.tick()
                except Exception:
                    log.exception("lease round failed")

    async def release(self) -> None:
        self._stopping = True
        async with self._round:
            pass  # the round in progress, if any, is over; no other starts
        keys = [connector_key(n) for n in sorted(self.bound)]
        if self._node is not None:
            keys.append(self._node.key)
        for key in keys:
            with contextlib.suppress(Exception):
                await self.store.release_lease(key, self.holder)
