"""Fixtures of the interop tests: node `smpp` 0.5.1 installed and ready to run, and a whole
smsgate node (SMPP door, dispatcher, simulator behind it) for third-party customers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from node_peer import NODE_DIR, ensure_node_smpp

from smsgate.config import demo_settings, load_settings
from smsgate.gateway.demo_account import DemoCredentials, ensure_demo_account
from smsgate.node import Node


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class DoorNode:
    port: int  # the node's SMPP door


@pytest.fixture
async def door(tmp_path: Path) -> AsyncIterator[tuple[DoorNode, DemoCredentials]]:
    settings = demo_settings(
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/door.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": True, "host": "127.0.0.1", "port": free_port()},
            simulator={"port": free_port(), "receipt_delay": 0.05},
            dispatch={"retry_backoff": 0.05, "retry_backoff_max": 0.2},
        )
    )
    node = Node(settings)
    await asyncio.wait_for(node.start(), 20)
    try:
        creds = await ensure_demo_account(node.store, tmp_path / "demo.json")
        assert node.addresses.smpp_port is not None
        yield DoorNode(node.addresses.smpp_port), creds
    finally:
        await asyncio.wait_for(node.stop(), 20)


@pytest.fixture(scope="session")
def node_smpp() -> Path:
    """The directory holding the node scripts, with smpp installed beside them."""
    ensure_node_smpp()
    return NODE_DIR
