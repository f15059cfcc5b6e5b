"""Leases while the store does not answer (the disk full, PostgreSQL restarting): a node
unbinds what it can no longer prove is its own once the lease's ttl has run out, keeps
running, and binds again when the store answers and the lease is still (or again) its own.
It stops only when another holder has the lease by then."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from smsgate.gateway.leases import LeaseKeeper, connector_key, node_key
from smsgate.store.sql_store import SqlStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class FakeConnector:
    """Stands in for a connector: bound between start() and close()."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.up = False
        self.starts = 0

    async def start(self) -> None:
        self.up = True
        self.starts += 1

    async def close(self) -> None:
        self.up = False


class TroubledLeases:
    """The store's leases, failing as a full disk fails them while `full` is set."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.full = False

    def _check(self) -> None:
        if self.full:
            raise sqlite3.OperationalError("database or disk is full")

    async def take_lease(self, key: str, holder: str, now: float, ttl: float) -> bool:
        self._check()
        return await self.store.take_lease(key, holder, now, ttl)

    async def take_leases(
        self, holder: str, now: float, takes: Sequence[tuple[str, float]]
    ) -> list[bool]:
        self._check()
        return await self.store.take_leases(holder, now, takes)

    async def release_lease(self, key: str, holder: str) -> None:
        self._check()
        await self.store.release_lease(key, holder)

    async def live_leases(self, now: float) -> dict[str, tuple[str, float]]:
        self._check()
        return await self.store.live_leases(now)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    s = SqlStore(f"sqlite+aiosqlite:///{tmp_path}/leases.db", commit_window=0.001)
    await asyncio.wait_for(s.open(), 10)
    try:
        yield s
    finally:
        await asyncio.wait_for(s.close(), 10)


def keeper(leases: TroubledLeases, holder: str, node_id: int, connector: FakeConnector,
           clock: Clock, lost: list[str]) -> LeaseKeeper:  # fmt: skip
    return LeaseKeeper(
        leases, holder, node_id, [connector], lost.append, node_ttl=10, connector_ttl=3,
        clock=clock,
    )  # fmt: skip


async def test_a_store_that_does_not_answer_unbinds_the_connector_and_the_node_binds_it_again(
    store: SqlStore,
) -> None:
    clock, lost, conn = Clock(), [], FakeConnector("sim")
    leases = TroubledLeases(store)
    node = keeper(leases, "a", 0, conn, clock, lost)
    await node.tick()
    assert conn.up

    leases.full = True
    clock.now += 2.5  # within the connector's ttl: still ours, still bound
    await node.tick()
    assert conn.up and node.bound == {"sim"}
    clock.now += 1.0  # past it: another node could bind it now, so this one lets go
    await node.tick()
    assert not conn.up and node.bound == set()
    clock.now += 20.0  # past the node lease too: the node keeps running, bound to nothing
    await node.tick()
    await node.tick()
    assert lost == [] and not conn.up

    leases.full = False  # the disk has room again; nobody took the leases meanwhile
    clock.now += 1.0
    await node.tick()
    assert conn.up and conn.starts == 2 and node.bound == {"sim"}
    assert lost == []


async def test_a_node_whose_leases_were_taken_while_the_store_did_not_answer_it_stops(
    store: SqlStore,
) -> None:
    clock, lost, conn = Clock(), [], FakeConnector("sim")
    leases = TroubledLeases(store)
    node = keeper(leases, "a", 0, conn, clock, lost)
    await node.tick()
    leases.full = True  # this node's store is unreachable...
    clock.now += 11.0
    await node.tick()
    assert not conn.up and lost == []
    # ...while another node, which reaches the database, took over its id (a new node
    # starting and finding the id free) and its connector.
    assert await store.take_lease(node_key(0), "b", clock.now, 10)
    assert await store.take_lease(connector_key("sim"), "b", clock.now, 3)
    leases.full = False
    clock.now += 1.0
    await node.tick()
    assert lost == ["node id 0: lease node:0 was lost"]
    assert not conn.up and conn.starts == 1


async def test_a_connector_taken_by_another_node_while_the_store_was_away_stays_with_it(
    store: SqlStore,
) -> None:
    clock, lost, conn = Clock(), [], FakeConnector("sim")
    leases = TroubledLeases(store)
    node = keeper(leases, "a", 0, conn, clock, lost)
    await node.tick()
    leases.full = True
    clock.now += 4.0  # the connector lease ran out; the node lease (10 s) did not
    await node.tick()
    assert not conn.up
    assert await store.take_lease(connector_key("sim"), "b", clock.now, 3)
    assert await store.take_lease(node_key(1), "b", clock.now, 10)
    leases.full = False
    clock.now += 1.0
    await node.tick()
    # Its own id is still its own: it runs on, and leaves the connector to its holder.
    assert lost == [] and not conn.up and node.bound == set()
