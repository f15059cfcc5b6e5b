"""Scheduled sends on two nodes sharing one database and one operator: messages scheduled
through either node go out when due — not before, within a second or so after — and each
exactly once (the operator counts the submits per destination)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from smsgate.config import Settings, load_settings
from smsgate.gateway.demo_account import ensure_demo_account
from smsgate.node import Node
from smsgate.simulator.config import SimulatorConfig
from smsgate.simulator.running import Simulator, running_simulator

from .test_json_end_to_end import free_port

MESSAGES = 6
AHEAD = 3.0  # seconds between the send and its time


def settings(tmp_path: Path, node_id: int, sim: Simulator) -> Settings:
    return load_settings(
        None,
        node_id=node_id,
        database={"url": f"sqlite+aiosqlite:///{tmp_path}/two.db"},
        http={"host": "127.0.0.1", "port": free_port()},
        smpp={"enabled": False},
        node={"connector_lease_ttl": 2.0},
        connectors=[
            {
                "name": "sim",
                "host": "127.0.0.1",
                "port": sim.port,
                "system_id": "smsgate",
                "password": "sim",
            }
        ],
    )


def base(node: Node) -> str:
    return f"http://127.0.0.1:{node.addresses.http_port}"


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with running_simulator(SimulatorConfig(port=0, receipt_delay=0.05)) as s:
        yield s


async def test_scheduled_messages_go_once_when_due_from_either_node(
    tmp_path: Path, sim: Simulator
) -> None:
    nodes = [Node(settings(tmp_path, n, sim)) for n in (1, 2)]
    async with contextlib.AsyncExitStack() as stack:
        for node in nodes:
            await asyncio.wait_for(node.start(), 20)
            stack.push_async_callback(lambda n=node: asyncio.wait_for(n.stop(), 20))
        creds = await ensure_demo_account(nodes[0].store, tmp_path / "demo.json")
        headers = {"Authorization": f"Bearer {creds.token}"}
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{n.addresses.http_port}",
                    headers=headers,
                    timeout=10,
                )
            )
            for n in nodes
        ]
        send_at = time.time() + AHEAD
        when = datetime.fromtimestamp(send_at, UTC).isoformat()
        phones = [f"3805012{n:02d}100" for n in range(MESSAGES)]  # none of the magic endings
        ids = []
        for n, phone in enumerate(phones):
            body = {"sender": creds.sender, "to": [phone], "text": f"at {n}", "send_at": when}
            r = await clients[n % 2].post("/api/v1/messages", json=body)
            assert r.status_code == 201, r.text
            ids.append(r.json()["messages"][0]["id"])
        assert time.time() < send_at, "the sends took longer than the schedule's head start"

        shown: dict[str, dict[str, object]] = {}
        deadline = time.monotonic() + AHEAD + 20
        while len(shown) < MESSAGES and time.monotonic() < deadline:
            for n, message_id in enumerate(ids):
                if message_id not in shown:
                    got = (await clients[n % 2].get(f"/api/v1/messages/{message_id}")).json()
                    if got["status"] == "DELIVRD":
                        shown[message_id] = got
            await asyncio.sleep(0.1)
        assert len(shown) == MESSAGES, shown
        for got in shown.values():
            parts = got["parts"]
            assert isinstance(parts, list)
            submitted = datetime.fromisoformat(parts[0]["submitted_at"]).timestamp()
            # Not before its time; within a second of it, with slack for a loaded machine.
            assert send_at <= submitted < send_at + 2.5, (send_at, submitted)
        await asyncio.sleep(0.5)  # a second send, were there one, would have come by now
        by_destination = sim.counters.by_destination
        assert [by_destination[p] for p in phones] == [1] * MESSAGES
