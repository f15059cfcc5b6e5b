"""End to end on real sockets: a node with the simulator as its operator; messages sent over the
JSON API reach every final status through the simulator's magic numbers, and money adds up."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from smsgate.config import demo_settings, load_settings
from smsgate.gateway.demo_account import (
    DEMO_PRICE,
    DEMO_TOP_UP,
    DemoCredentials,
    ensure_demo_account,
)
from smsgate.node import Node

FINAL = {"DELIVRD", "UNDELIV", "EXPIRED", "REJECTD"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[Node, DemoCredentials, str]]:
    settings = demo_settings(
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/e2e.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": False},
            simulator={"port": free_port(), "receipt_delay": 0.05},
            dispatch={"retry_backoff": 0.05, "retry_backoff_max": 0.2},
        )
    )
    n = Node(settings)
    await asyncio.wait_for(n.start(), 20)
    try:
        creds = await ensure_demo_account(n.store, tmp_path / "demo.json")
        yield n, creds, f"http://127.0.0.1:{n.addresses.http_port}"
    finally:
        await asyncio.wait_for(n.stop(), 20)


async def wait_final(
    client: httpx.AsyncClient, ids: list[str], timeout: float = 20
) -> dict[str, str]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        r = await client.post("/sms/status", json={"id_sms": ids})
        info = r.json()["success_request"].get("info", {})
        if len(info) == len(ids) and set(info.values()) <= FINAL:
            return dict(info)
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not final in {timeout}s: {info}")
        await asyncio.sleep(0.1)


async def test_messages_reach_each_final_status_and_money_adds_up(
    node: tuple[Node, DemoCredentials, str],
) -> None:
    n, creds, base = node
    headers = {"Authorization": f"Bearer {creds.token}"}
    # Simulator magic endings: 0001 UNDELIV, 0002 EXPIRED, 0003 REJECTD; anything else DELIVRD.
    phones = {
        "380501230000": "DELIVRD",
        "380501230001": "UNDELIV",
        "380501230002": "EXPIRED",
        "380501230003": "REJECTD",
    }
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as client:
        r = await client.post(
            "/sms/send", json={"phone": list(phones), "message": "Hello", "src_addr": creds.sender}
        )
        assert r.status_code == 200, r.text
        info = r.json()["success_request"]["info"]
        assert sorted(info.values()) == sorted(phones)
        long_text = "Long message " * 30  # 390 GSM-7 septets: 3 parts
        r = await client.post(
            "/sms/send",
            json={"phone": ["380501239999"], "message": long_text, "src_addr": creds.sender},
        )
        (long_id,) = r.json()["success_request"]["info"]
        statuses = await wait_final(client, [*info, long_id])
    assert {info[i]: statuses[i] for i in info} == phones
    assert statuses[long_id] == "DELIVRD"

    demo = await n.store.credentials(creds.login)
    assert demo is not None
    balance = await n.store.balance(demo.account.id)
    assert balance.balance + balance.reserved + balance.charged == DEMO_TOP_UP
    assert balance.reserved == 0
    # Every part the operator accepted is charged (UNDELIV and EXPIRED ones too).
    assert balance.charged == DEMO_PRICE * (4 + 3)
