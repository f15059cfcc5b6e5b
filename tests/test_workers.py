"""The workers supervisor and the leases it relies on: worker counts, settings per worker, node
ids that no two live nodes share, connectors bound by one node at a time and moved when their
holder goes quiet, and `serve --workers 2` for real (one node pumping an account's outbox:
tests/gateway/outbox/test_source.py)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from smsgate.config import load_settings
from smsgate.gateway.leases import (
    LeaseKeeper,
    NoNodeId,
    connector_key,
    node_key,
    take_node_id,
)
from smsgate.store.sql_store import SqlStore
from smsgate.workers import listen, listeners, worker_count, worker_settings

SMSGATE = str(Path(sys.executable).parent / "smsgate")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    s = SqlStore(f"sqlite+aiosqlite:///{tmp_path}/leases.db", commit_window=0.001)
    await asyncio.wait_for(s.open(), 10)
    try:
        yield s
    finally:
        await asyncio.wait_for(s.close(), 10)


class FakeConnector:
    """Stands in for a connector: counts binds and unbinds."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.starts = 0
        self.closes = 0

    async def start(self) -> None:
        self.starts += 1

    async def close(self) -> None:
        self.closes += 1


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def keeper(store: SqlStore, holder: str, node_id: int, connector: FakeConnector, clock: Clock,
           lost: list[str]) -> LeaseKeeper:  # fmt: skip
    return LeaseKeeper(
        store, holder, node_id, [connector], lost.append, node_ttl=10, connector_ttl=3, clock=clock
    )


def test_auto_is_one_worker_per_core() -> None:
    assert worker_count("auto") == len(os.sched_getaffinity(0))
    assert worker_count("3") == 3
    with pytest.raises(ValueError, match="at least 1"):
        worker_count("0")
    with pytest.raises(ValueError, match="number or auto"):
        worker_count("many")


def test_each_worker_has_its_own_node_id_and_only_the_first_serves_smpp() -> None:
    settings = load_settings(None, node_id=4)
    first, second = worker_settings(settings, 0), worker_settings(settings, 1)
    # No holder name given: each worker keeps its own in its node id's holder file, which a
    # restart of the slot (or of the whole supervisor) finds again.
    assert first.node.holder == second.node.holder == ""
    assert (first.node_id, second.node_id) == (4, 5)
    assert first.smpp.enabled and not second.smpp.enabled
    # Beside other workers, the door's worker leaves the connectors to them first; alone it
    # does not wait.
    assert worker_settings(settings, 0, 2).node.defer_connectors
    assert not worker_settings(settings, 1, 2).node.defer_connectors
    assert not first.node.defer_connectors
    # The HTTP callbacks go the other way: the others leave them to the door's worker.
    assert not worker_settings(settings, 0, 2).node.defer_callbacks
    assert worker_settings(settings, 1, 2).node.defer_callbacks
    assert not first.node.defer_callbacks


def test_each_worker_gets_a_cpu_of_its_own_when_there_are_enough(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = load_settings(None)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {5, 2, 7}, raising=False)
    assert [worker_settings(settings, slot, 3).node.cpu for slot in range(3)] == [2, 5, 7]
    assert [worker_settings(settings, slot, 2).node.cpu for slot in range(2)] == [2, 5]
    # More workers than CPUs: the OS places them all.
    assert [worker_settings(settings, slot, 4).node.cpu for slot in range(4)] == [None] * 4
    # Turned off; and a cpu configured for one node does not put every worker on it.
    off = settings.model_copy(
        update={"node": settings.node.model_copy(update={"pin_workers": False, "cpu": 2})}
    )
    assert [worker_settings(off, slot, 2).node.cpu for slot in range(2)] == [None, None]


def test_a_configured_holder_name_gets_the_workers_slot() -> None:
    settings = load_settings(None)
    settings = settings.model_copy(
        update={"node": settings.node.model_copy(update={"holder": "edge-1"})}
    )
    assert [worker_settings(settings, slot).node.holder for slot in (0, 1)] == [
        "edge-1:w0",
        "edge-1:w1",
    ]


def test_the_shared_listener_is_bound_once_and_inheritable() -> None:
    sock = listen("127.0.0.1", 0)
    try:
        assert sock.get_inheritable()
        with pytest.raises(OSError):
            listen("127.0.0.1", sock.getsockname()[1]).close()
    finally:
        sock.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT balances on Linux")
def test_each_worker_has_a_listener_of_its_own_on_the_one_port() -> None:
    group = listeners("127.0.0.1", 0, 3)
    try:
        port = group[0].getsockname()[1]
        assert len({s.fileno() for s in group}) == 3
        assert {s.getsockname()[1] for s in group} == {port}
        assert all(s.get_inheritable() for s in group)
        with pytest.raises(OSError):  # a plain listener cannot share the port
            listen("127.0.0.1", port).close()
        with pytest.raises(OSError):  # nor can a second group (the plain bind is tried first)
            listeners("127.0.0.1", port, 2)
    finally:
        for s in group:
            s.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT balances on Linux")
def test_connections_are_spread_over_the_workers_listeners() -> None:
    # One shared socket let the first worker awake accept almost all of a burst of
    # connections; a SO_REUSEPORT group spreads them by the kernel's hash of the addresses.
    group = listeners("127.0.0.1", 0, 2)
    clients = []
    try:
        for _ in range(64):
            clients.append(socket.create_connection(group[0].getsockname(), timeout=5))
        accepted = []
        for s in group:
            s.setblocking(False)
            count = 0
            while True:
                try:
                    conn, _ = s.accept()
                except BlockingIOError:
                    break
                conn.close()
                count += 1
            accepted.append(count)
        assert sum(accepted) == 64
        assert min(accepted) >= 8, accepted  # 32 expected: a split this uneven is no spreading
    finally:
        for c in clients:
            c.close()
        for s in group:
            s.close()


def test_a_single_worker_listens_without_joining_a_reuseport_group() -> None:
    (single,) = listeners("127.0.0.1", 0, 1)
    try:
        assert single.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 0
    finally:
        single.close()


async def test_two_live_nodes_never_share_a_node_id(store: SqlStore) -> None:
    first = await take_node_id(store, 0, "a", 10)
    second = await take_node_id(store, 0, "b", 10)
    assert (first, second) == (0, 1)
    assert await take_node_id(store, 0, "a", 10) == 0  # renewing is taking again


async def test_a_restarted_node_waits_for_its_own_id_while_the_dead_lease_runs_out(
    store: SqlStore,
) -> None:
    assert await store.take_lease(node_key(0), "dead", 0.0, 1.0) is True
    # The dead holder's lease lapsed at t=1: the real clock is far past it.
    assert await take_node_id(store, 0, "new", 10, patience=2) == 0
    assert await store.take_lease(node_key(5), "live", 10**10, 10) is True
    assert await take_node_id(store, 5, "other", 10, patience=0.2, clock=lambda: 10**10) == 6


async def test_no_node_runs_when_every_id_is_held(store: SqlStore) -> None:
    assert await store.take_lease(node_key(1023), "live", 10**10, 10)
    with pytest.raises(NoNodeId):
        await take_node_id(store, 1023, "other", 10, clock=lambda: 10**10)


async def test_only_the_lease_holder_binds_a_connector_and_a_survivor_takes_it_over(
    store: SqlStore,
) -> None:
    clock, lost = Clock(), []
    a_conn, b_conn = FakeConnector("sim"), FakeConnector("sim")
    a = keeper(store, "a", 0, a_conn, clock, lost)
    b = keeper(store, "b", 1, b_conn, clock, lost)
    await a.tick()
    await b.tick()
    assert (a_conn.starts, b_conn.starts) == (1, 0)
    assert a.bound == {"sim"} and b.bound == set()

    clock.now += 2.9  # a keeps renewing: b stays without the bind
    await a.tick()
    clock.now += 2.9
    await b.tick()
    assert b_conn.starts == 0

    clock.now += 3.1  # a went quiet (killed): its lease runs out and b binds
    await b.tick()
    assert b_conn.starts == 1 and b.bound == {"sim"}
    assert lost == []


async def test_a_node_that_finds_its_connector_taken_unbinds_it_and_stops(
    store: SqlStore,
) -> None:
    clock, lost = Clock(), []
    a_conn, b_conn = FakeConnector("sim"), FakeConnector("sim")
    a = keeper(store, "a", 0, a_conn, clock, lost)
    b = keeper(store, "b", 1, b_conn, clock, lost)
    await a.tick()
    clock.now += 3.5  # a stalled past its ttl; b took the connector meanwhile
    await b.tick()
    await a.tick()
    assert a_conn.closes == 1 and a.bound == set()
    assert lost == ["connector sim: lease connector:sim was lost"]


def two_connector_keeper(store: SqlStore, holder: str, node_id: int, clock: Clock,
                         lost: list[str]) -> tuple[LeaseKeeper, list[FakeConnector]]:  # fmt: skip
    connectors = [FakeConnector("sim0"), FakeConnector("sim1")]
    kept = LeaseKeeper(
        store, holder, node_id, connectors, lost.append, node_ttl=10, connector_ttl=3, clock=clock
    )
    return kept, connectors


async def test_a_deferring_node_leaves_a_free_connector_to_another_for_one_round(
    store: SqlStore,
) -> None:
    clock, lost = Clock(), []
    door = FakeConnector("sim")
    a = keeper(store, "door", 0, door, clock, lost)
    a.defer = True
    other = FakeConnector("sim")
    b = keeper(store, "other", 1, other, clock, lost)
    await a.tick()  # first to look, but it defers: the connector stays free this round
    assert a.bound == set() and door.starts == 0
    await b.tick()
    assert b.bound == {"sim"} and other.starts == 1
    clock.now += 1
    await a.tick()  # held by b: a never bids
    assert a.bound == set() and door.starts == 0
    assert lost == []


async def test_a_deferring_node_alone_binds_on_its_second_round(store: SqlStore) -> None:
    clock, lost = Clock(), []
    conn = FakeConnector("sim")
    a = keeper(store, "door", 0, conn, clock, lost)
    a.defer = True
    await a.tick()
    assert a.bound == set()
    clock.now += 1
    await a.tick()  # still free a round later: nobody else will take it
    assert a.bound == {"sim"} and conn.starts == 1


async def test_two_nodes_end_up_with_one_connector_each(store: SqlStore) -> None:
    clock, lost = Clock(), []
    a, a_conns = two_connector_keeper(store, "a", 0, clock, lost)
    b, b_conns = two_connector_keeper(store, "b", 1, clock, lost)
    await a.tick()  # alone so far: binds both
    assert a.bound == {"sim0", "sim1"}
    await b.tick()  # both taken: b waits
    assert b.bound == set()
    clock.now += 1
    await a.tick()  # b is live and holds none: a hands one over
    assert a.bound == {"sim0"} and a_conns[1].closes == 1
    await b.tick()
    assert b.bound == {"sim1"} and b_conns[1].starts == 1
    for _ in range(5):  # and it stays so
        clock.now += 1
        await a.tick()
        await b.tick()
    assert (a.bound, b.bound) == ({"sim0"}, {"sim1"})
    assert lost == []


async def test_a_dead_nodes_connector_goes_to_a_survivor_at_its_share(store: SqlStore) -> None:
    clock, lost = Clock(), []
    a, _ = two_connector_keeper(store, "a", 0, clock, lost)
    b, _ = two_connector_keeper(store, "b", 1, clock, lost)
    await b.tick()
    await a.tick()
    clock.now += 1
    await b.tick()
    await a.tick()
    assert len(a.bound) == len(b.bound) == 1
    # a goes quiet: its node lease lives 10 s, but stops counting as a node to share with
    # once it has not been renewed for two rounds; its connector lease lapses after 3 s, and
    # b binds that connector at its next round.
    taken_at = None
    for _ in range(10):
        clock.now += 1
        await b.tick()
        if len(b.bound) == 2:
            taken_at = clock.now
            break
    assert taken_at is not None and taken_at - 1001 <= 4
    assert lost == []


async def test_a_node_at_its_share_leaves_a_free_connector_alone_without_flapping(
    store: SqlStore,
) -> None:
    clock, lost = Clock(), []
    a, a_conns = two_connector_keeper(store, "a", 0, clock, lost)
    await store.take_lease(node_key(1), "b", clock.now, 10)  # b renews but never bids
    for _ in range(6):
        await a.tick()
        clock.now += 1
        await store.take_lease(node_key(1), "b", clock.now, 10)
    assert a.bound == {"sim0"}  # its share of two connectors over two nodes
    assert [(c.starts, c.closes) for c in a_conns] == [(1, 0), (0, 0)]
    assert lost == []


async def test_a_lease_round_is_one_write_however_many_leases_it_renews(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At rest a node's lease rounds are most of its CPU, and every commit wakes its pollers.
    clock, lost = Clock(), []
    a, _ = two_connector_keeper(store, "a", 0, clock, lost)
    rounds: list[list[str]] = []
    take_leases = store.take_leases

    async def counted(holder: str, now: float, takes: Sequence[tuple[str, float]]) -> list[bool]:
        rounds.append([key for key, _ in takes])
        return await take_leases(holder, now, takes)

    async def single(*args: object) -> bool:
        raise AssertionError("a round takes its leases together")

    monkeypatch.setattr(store, "take_leases", counted)
    monkeypatch.setattr(store, "take_lease", single)
    await a.tick()
    clock.now += 1
    await a.tick()
    both = ["node:0", "connector:sim0", "connector:sim1"]
    assert rounds == [both, both] and a.bound == {"sim0", "sim1"}
    assert lost == []


async def test_a_node_whose_node_lease_was_taken_gives_back_a_connector_it_bid_for(
    store: SqlStore,
) -> None:
    clock, lost = Clock(), []
    conn = FakeConnector("sim")
    a = keeper(store, "a", 0, conn, clock, lost)
    assert await store.take_lease(node_key(0), "b", clock.now, 10)  # another has a's node id
    await a.tick()  # the free connector was bid for in the same round: it goes back at once
    assert lost == ["node id 0: lease node:0 was lost"]
    assert conn.starts == 0 and a.bound == set()
    assert await store.take_lease(connector_key("sim"), "b", clock.now, 3)


async def test_released_leases_are_free_at_once(store: SqlStore) -> None:
    clock, lost = Clock(), []
    a = keeper(store, "a", 0, FakeConnector("sim"), clock, lost)
    await a.tick()
    await a.release()
    assert await store.take_lease(connector_key("sim"), "b", clock.now, 3)
    assert await store.take_lease(node_key(0), "b", clock.now, 3)


async def test_serve_with_two_workers_shares_one_port_and_restarts_a_killed_worker(
    tmp_path: Path,
) -> None:
    config = tmp_path / "smsgate.toml"
    sock, metrics_sock = listen("127.0.0.1", 0), listen("127.0.0.1", 0)
    port, metrics_port = sock.getsockname()[1], metrics_sock.getsockname()[1]
    sock.close()
    metrics_sock.close()
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path}/w.db"\n[smpp]\nenabled = false\n'
        f"[metrics]\nport = {metrics_port}\n"
    )
    log = tmp_path / "workers.log"
    proc = subprocess.Popen(
        [SMSGATE, "serve", "--config", str(config), "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
            seen = await asyncio.wait_for(_node_ids(client, want={0, 1}), 40)
            assert seen == {0, 1}
            # One view of both workers at every scrape (never one worker, then the other): the
            # node's count of /health requests, summed over workers, only grows, by exactly the
            # requests made between two scrapes, whichever worker took each.
            scrape = f"http://127.0.0.1:{metrics_port}/metrics"

            async def requests_counted() -> float:
                text = (await client.get(scrape)).text
                assert 'worker="0"' in text and 'worker="1"' in text, text[:2000]
                return _health_requests(text)

            counted = await requests_counted()
            for _ in range(3):
                for _ in range(10):
                    await client.get("/health", headers={"Connection": "close"})
                want, deadline = counted + 10, asyncio.get_running_loop().time() + 20
                while counted != want:  # a reply may reach us before its worker counts it
                    now = await requests_counted()
                    assert counted <= now <= want, (counted, now, want)
                    assert asyncio.get_running_loop().time() < deadline, (now, want)
                    counted = now
                    await asyncio.sleep(0.05)
            assert (await client.get("/metrics")).status_code == 404  # not on the public port
            pids = _worker_pids(proc.pid)
            assert len(pids) == 2
            # Each on a CPU of its own where there are two, every thread of it (pin_workers).
            usable = sorted(os.sched_getaffinity(0))
            if len(usable) >= 2:
                assert [_cpus_of(pid) for pid in sorted(pids)] == [{usable[0]}, {usable[1]}]
            else:
                assert [_cpus_of(pid) for pid in pids] == [set(usable)] * 2
            os.kill(pids[0], signal.SIGKILL)
            # The restarted worker takes back its own id (same holder), so it is 0 and 1 again.
            assert await asyncio.wait_for(_node_ids(client, want={0, 1}, fresh=True), 40) == {0, 1}
            assert pids[0] not in _worker_pids(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()
    assert "Traceback" not in log.read_text()


async def _node_ids(client: httpx.AsyncClient, want: set[int], fresh: bool = False) -> set[int]:
    seen: set[int] = set()
    while seen != want:
        try:
            # A new connection each time, so that both workers get to accept some.
            r = await client.get("/health", headers={"Connection": "close"})
            seen.add(int(json.loads(r.text)["node_id"]))
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.02 if not fresh else 0.05)
    return seen


def _health_requests(exposition: str) -> float:
    """/health requests the node answered, every worker's together."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == "smsgate_request_seconds_count" and sample.labels["path"] == "/health"
    )


def _cpus_of(pid: int) -> set[int]:
    """The CPUs every thread of process `pid` may run on (all its threads must agree)."""
    masks = {frozenset(os.sched_getaffinity(int(tid))) for tid in os.listdir(f"/proc/{pid}/task")}
    assert len(masks) == 1, masks
    return set(next(iter(masks)))


def _worker_pids(parent: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-ww", "-o", "pid=,args=", "--ppid", str(parent)], capture_output=True, text=True
    ).stdout
    return [int(line.split()[0]) for line in out.splitlines() if "multiprocessing.spawn" in line]
