"""Fixtures for the SDK and CLI tests: a fake JSON API, a sleep function that only records, and
`live`, a real smsgate node on 127.0.0.1 with the simulator as its operator.

`live` is the one place that knows where the gateway is; point it elsewhere to run the live tests
against another deployment with the simulator's magic numbers.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from .fake_api import FakeApi, Sleeps


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@dataclass(frozen=True)
class Live:
    url: str
    token: str
    sender: str
    store: Any = None  # the node's store, for tests that need more money than the demo has


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    from smsgate.config import demo_settings, load_settings
    from smsgate.gateway.demo_account import ensure_demo_account
    from smsgate.node import Node

    settings = demo_settings(
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/live.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": False},
            simulator={"port": free_port(), "receipt_delay": 0.05},
            dispatch={"retry_backoff": 0.05, "retry_backoff_max": 0.2},
        )
    )
    node = Node(settings)
    await asyncio.wait_for(node.start(), 20)
    try:
        creds = await ensure_demo_account(node.store, tmp_path / "demo.json")
        yield Live(
            f"http://127.0.0.1:{node.addresses.http_port}", creds.token, creds.sender, node.store
        )
    finally:
        await asyncio.wait_for(node.stop(), 20)
