"""/health/live and /health/ready on a real node: ready means the database answers, every route
has a bound connector (here or on another node) and the node is not draining, and when it is
not, the body says why (503)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from smsgate.config import demo_settings, load_settings
from smsgate.node import Node


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _running(settings: Any) -> AsyncIterator[tuple[Node, httpx.AsyncClient]]:
    node = Node(settings)
    await asyncio.wait_for(node.start(), 20)
    base = f"http://127.0.0.1:{node.addresses.http_port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            yield node, client
    finally:
        await asyncio.wait_for(node.stop(), 20)


async def _until(client: httpx.AsyncClient, status: int, timeout: float = 10) -> httpx.Response:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        r = await client.get("/health/ready")
        if r.status_code == status or asyncio.get_running_loop().time() > deadline:
            return r
        await asyncio.sleep(0.05)


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[tuple[Node, httpx.AsyncClient]]:
    settings = demo_settings(
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/ready.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": False},
            simulator={"port": free_port()},
        )
    )
    async for running in _running(settings):
        yield running


async def test_a_node_with_its_operator_bound_is_live_and_ready(
    demo: tuple[Node, httpx.AsyncClient],
) -> None:
    node, client = demo
    r = await client.get("/health/live")
    assert (r.status_code, r.json()) == (200, {"live": True})
    r = await _until(client, 200)
    body = r.json()
    assert r.status_code == 200, body
    assert body["ready"] is True and body["reasons"] == [] and body["database"] == "ok"
    assert body["routes"] == {"*": [node.connectors[0].name]}
    assert (await client.get("/health")).status_code == 200  # as before


async def test_an_unreachable_database_and_a_draining_node_are_not_ready(
    demo: tuple[Node, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    node, client = demo
    assert (await _until(client, 200)).status_code == 200

    async def broken(now: float) -> dict[str, tuple[str, float]]:
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(node.store, "live_leases", broken)
    r = await client.get("/health/ready")
    assert r.status_code == 503
    assert any(reason.startswith("database unreachable") for reason in r.json()["reasons"])
    monkeypatch.undo()
    node.draining = True
    r = await client.get("/health/ready")
    assert r.status_code == 503 and r.json()["reasons"] == ["draining: the node is stopping"]
    assert (await client.get("/health/live")).status_code == 200


async def test_a_route_whose_connectors_cannot_bind_says_so(tmp_path: Path) -> None:
    settings = load_settings(
        None,
        database={"url": f"sqlite+aiosqlite:///{tmp_path}/down.db"},
        http={"host": "127.0.0.1", "port": free_port()},
        smpp={"enabled": False},
        connectors=[
            {
                "name": "op-a",
                "host": "127.0.0.1",
                "port": free_port(),
                "system_id": "x",
                "password": "y",
            },
        ],
        routes=[{"prefix": "380", "connectors": ["op-a"]}],
    )
    async for _node, client in _running(settings):
        r = await client.get("/health/ready")
        assert r.status_code == 503
        assert r.json()["reasons"] == ["route 380: none of op-a is bound"]
        assert r.json()["routes"] == {"380": []}


async def test_a_connector_another_node_binds_is_shown_held_there(
    demo: tuple[Node, httpx.AsyncClient], tmp_path: Path
) -> None:
    """Two nodes on one database: the second's /health says who binds the connector it does
    not, so `smsgate admin connectors list` asking it does not report the connector down."""
    first, _ = demo
    (connector,) = first.settings.connectors
    second = load_settings(
        None,
        node_id=1,
        node={"holder": "second-node"},
        database={"url": f"sqlite+aiosqlite:///{tmp_path}/ready.db"},
        http={"host": "127.0.0.1", "port": free_port()},
        smpp={"enabled": False},
        connectors=[connector.model_dump()],
    )
    async for node, client in _running(second):
        described = (await client.get("/health")).json()["connectors"][connector.name]
        assert described["bound"] is False
        assert described["held_by"] == {"node_id": first.node_id, "holder": first.holder}
        assert node.connectors[0].describe()["bound"] is False
    own = (await demo[1].get("/health")).json()["connectors"][connector.name]
    assert own["bound"] is True and "held_by" not in own
