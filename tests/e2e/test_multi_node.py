"""Many nodes on one database, on each engine: three `smsgate serve` processes share one SQLite
file or one PostgreSQL, one operator connector (bound by one node at a time under its lease) and
one account's rate limit. The connector's holder is killed with SIGKILL mid-run: every accepted
message still reaches a final status, no part goes out twice except those in flight at the kill,
the connector moves to a survivor within seconds, and the money adds up."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from stopping import stop_node
from store.conftest import pg_cluster, pg_database  # noqa: F401  (fixtures reused, not copied)

from smsgate.gateway.credentials import hash_token, new_token
from smsgate.gateway.demo_account import DEMO_SENDER, DEMO_TOP_UP, ensure_demo_account
from smsgate.gateway.dispatcher import WINDOWS_CLAIMED
from smsgate.simulator.config import SimulatorConfig
from smsgate.simulator.running import Simulator, running_simulator
from smsgate.store.sql_store import SqlStore

from .test_json_end_to_end import FINAL, free_port

SMSGATE = str(Path(sys.executable).parent / "smsgate")
WINDOW = 16
# The demo account's own 1000.0000 pays for 2,000 parts: three fast nodes streaming for 4 s can
# send more, and a recipient refused for money leaves no "info" to record.
DEMO_EXTRA = 9 * DEMO_TOP_UP
NODES = 3
RATE = 9
CONNECTOR_TTL = 2.0
CLAIM_TTL = 3.0  # the dead node's claims go back to the queue this long after it claimed them


@dataclass
class Cluster:
    url: str
    bases: list[str]
    procs: list[subprocess.Popen[bytes]]
    token: str
    limited_token: str
    account_id: int
    folder: Path  # the nodes' configs and logs


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/multi.db"
    return str(request.getfixturevalue("pg_database"))


async def prepare_accounts(url: str, tmp_path: Path) -> tuple[str, str, int]:
    """The demo account (no rate limit) and one limited to RATE requests per second."""
    store = SqlStore(url)
    await asyncio.wait_for(store.open(), 20)
    try:
        creds = await ensure_demo_account(store, tmp_path / "demo.json")
        demo = await store.credentials(creds.login)
        assert demo is not None
        limited = await store.create_account("limited", rate_limit=RATE)
        token = new_token()
        await store.set_token_hash(limited.id, hash_token(token))
        await store.add_originator(limited.id, DEMO_SENDER)
        await store.top_up(limited.id, DEMO_TOP_UP)
        await store.top_up(demo.account.id, DEMO_EXTRA)
        return creds.token, token, demo.account.id
    finally:
        await store.close()


def node_config(tmp_path: Path, index: int, url: str, sim: Simulator, http_port: int) -> Path:
    config = tmp_path / f"node{index}.toml"
    config.write_text(
        f"""
node_id = {index * 10}
[database]
url = "{url}"
[http]
port = {http_port}
[smpp]
enabled = false
[node]
connector_lease_ttl = {CONNECTOR_TTL}
[dispatch]
claim_ttl = {CLAIM_TTL}
retry_backoff = 0.05
retry_backoff_max = 0.2
[[connectors]]
name = "sim"
host = "127.0.0.1"
port = {sim.port}
system_id = "smsgate"
password = "sim"
window = {WINDOW}
"""
    )
    return config


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator(SimulatorConfig(port=0, receipt_delay=0.05, window=WINDOW)) as s:
        yield s


@pytest.fixture
async def cluster(database_url: str, tmp_path: Path, sim: Simulator) -> AsyncIterator[Cluster]:
    token, limited, account_id = await prepare_accounts(database_url, tmp_path)
    ports = [free_port() for _ in range(NODES)]
    procs = []
    for i, port in enumerate(ports):
        config = node_config(tmp_path, i, database_url, sim, port)
        procs.append(
            subprocess.Popen(
                [SMSGATE, "serve", "--config", str(config)],
                cwd=tmp_path,
                stdout=(tmp_path / f"node{i}.log").open("ab"),
                stderr=subprocess.STDOUT,
            )
        )
    c = Cluster(
        database_url,
        [f"http://127.0.0.1:{p}" for p in ports],
        procs,
        token,
        limited,
        account_id,
        tmp_path,
    )
    try:
        await asyncio.wait_for(wait_up(c), 40)
        yield c
    finally:
        await asyncio.gather(*(stop_node(proc) for proc in procs))


async def phones_sending(url: str) -> set[str]:
    """Destinations of the parts claimed but not recorded (SENDING) right now."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT m.phone FROM parts p JOIN messages m ON m.id = p.message_id"
                    " WHERE p.state = 1"
                )
            )
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


async def health(base: str) -> dict[str, object] | None:
    async with httpx.AsyncClient(base_url=base, timeout=2) as client:
        try:
            r = await client.get("/health")
        except httpx.TransportError:
            return None
        return dict(r.json()) if r.status_code == 200 else None


async def holders(c: Cluster, alive: list[int]) -> list[int]:
    """Indexes of the nodes whose connector is bound right now."""
    found = []
    for i in alive:
        h = await health(c.bases[i])
        if h is not None and h["connectors"]["sim"]["bound"]:  # type: ignore[index]
            found.append(i)
    return found


async def wait_up(c: Cluster) -> None:
    while True:
        for i, proc in enumerate(c.procs):
            if proc.poll() is not None:
                log = (c.folder / f"node{i}.log").read_text(errors="replace")[-3000:]
                raise AssertionError(f"node {i} exited during start ({proc.returncode}):\n{log}")
        up = [await health(b) for b in c.bases]
        if all(h is not None for h in up) and len(await holders(c, list(range(NODES)))) == 1:
            return
        await asyncio.sleep(0.1)


async def test_nodes_share_the_work_survive_a_sigkill_and_keep_the_money(
    cluster: Cluster, sim: Simulator
) -> None:
    c = cluster
    node_ids = {(await health(b) or {})["node_id"] for b in c.bases}
    assert len(node_ids) == NODES, "two live nodes share a node id"

    # -- one account's rate limit is the account's, whichever nodes its requests reach.
    async def one(i: int) -> int:
        async with httpx.AsyncClient(base_url=c.bases[i % NODES], timeout=5) as client:
            r = await client.post(
                "/sms/send",
                headers={"Authorization": f"Bearer {c.limited_token}"},
                json={"phone": [f"38067{i:07d}8"], "message": "rate", "src_addr": DEMO_SENDER},
            )
            return r.status_code

    started = time.monotonic()
    codes = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(4 * RATE))), 20)
    elapsed = time.monotonic() - started
    assert set(codes) <= {200, 429}
    # A full bucket of RATE, plus what refills while the requests are answered.
    assert RATE <= codes.count(200) <= RATE + RATE * elapsed + 1, (codes.count(200), elapsed)

    # -- traffic to every node, then the connector's holder dies.
    holder = (await holders(c, list(range(NODES))))[0]
    accepted: dict[str, str] = {}
    headers = {"Authorization": f"Bearer {c.token}"}

    async def stream(i: int, stop_at: float) -> None:
        sent = 0
        async with httpx.AsyncClient(base_url=c.bases[i], headers=headers, timeout=5) as client:
            while time.monotonic() < stop_at:
                phones = [f"3805{i}{sent + k:06d}8" for k in range(5)]
                sent += 5
                body = {"phone": phones, "message": "multi node", "src_addr": DEMO_SENDER}
                try:
                    r = await client.post("/sms/send", json=body)
                except httpx.TransportError:
                    return  # the node died under this request: it was never answered
                accepted.update(r.json()["success_request"]["info"])
                await asyncio.sleep(0.01)

    stop_at = time.monotonic() + 4.0
    streams = [asyncio.create_task(stream(i, stop_at)) for i in range(NODES)]
    await asyncio.sleep(1.5)
    os.kill(c.procs[holder].pid, signal.SIGKILL)
    c.procs[holder].wait(10)
    killed_at = time.monotonic()
    in_flight = await phones_sending(c.url)
    survivors = [i for i in range(NODES) if i != holder]
    moved_to: list[int] = []
    while not moved_to and time.monotonic() - killed_at < 15:
        moved_to = await holders(c, survivors)
        await asyncio.sleep(0.1)
    moved_after = time.monotonic() - killed_at
    await asyncio.wait_for(asyncio.gather(*streams), 15)
    assert len(moved_to) == 1, "the connector did not move to exactly one survivor"
    assert moved_after < CONNECTOR_TTL + 3, moved_after
    assert len(accepted) > 100, "too little traffic to prove anything"

    # -- every accepted message ends, and ends once.
    final: dict[str, str] = {}
    deadline = time.monotonic() + 40
    async with httpx.AsyncClient(base_url=c.bases[survivors[0]], headers=headers, timeout=10) as cl:
        while len(final) < len(accepted) and time.monotonic() < deadline:
            pending = [i for i in accepted if i not in final]
            for start in range(0, len(pending), 100):
                r = await cl.post("/sms/status", json={"id_sms": pending[start : start + 100]})
                info = r.json()["success_request"].get("info", {})
                final.update({k: v for k, v in info.items() if v in FINAL})
            await asyncio.sleep(0.2)
    assert set(final) == set(accepted), f"{len(set(accepted) - set(final))} never final"
    assert set(final.values()) == {"DELIVRD"}
    seen = sim.counters.by_destination
    phones = list(accepted.values())
    assert all(seen[p] >= 1 for p in phones)
    twice = {p for p in phones if seen[p] > 1}
    # Only parts in flight at the kill (claimed, maybe sent, result not yet stored) may go out
    # twice; and there are never more of those than a node claims plus one unstored batch.
    assert twice <= in_flight, sorted(twice - in_flight)
    assert len(in_flight) <= WINDOWS_CLAIMED * WINDOW + 500

    # -- money: nothing minted or lost across nodes and the kill.
    store = SqlStore(c.url)
    await asyncio.wait_for(store.open(), 20)
    try:
        b = await asyncio.wait_for(store.balance(c.account_id), 10)
    finally:
        await store.close()
    assert b.balance + b.reserved + b.charged == DEMO_TOP_UP + DEMO_EXTRA
    assert b.reserved == 0


def admin(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SMSGATE_DATABASE__URL": url}
    return subprocess.run(
        [SMSGATE, "admin", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_admin_works_against_postgresql(pg_database: str) -> None:  # noqa: F811
    created = admin(pg_database, "accounts", "create", "acme", "--balance", "12.5")
    assert created.returncode == 0, created.stderr
    assert "API token" in created.stdout
    topped = admin(pg_database, "balance", "top-up", "acme", "7.5")
    assert topped.returncode == 0, topped.stderr
    shown = admin(pg_database, "balance", "show", "acme", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["balance"] == "20.0000"
    listed = admin(pg_database, "accounts", "list", "--json")
    assert listed.returncode == 0 and "acme" in listed.stdout, listed.stderr
