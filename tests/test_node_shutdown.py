"""A node stops in the order its parts depend on each other: nothing that reaches the store
(a lease round, the dispatcher's claims, a request) is still running when the store closes."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest

from smsgate.config import demo_settings, load_settings
from smsgate.node import Node
from smsgate.store.sql_store import SqlStore


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_every_task_has_ended_when_the_store_closes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = demo_settings(
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/stop.db"},
            http={"host": "127.0.0.1", "port": free_port()},
            smpp={"enabled": False},
            simulator={"port": free_port()},
            # Lease rounds every 20 ms: one is as good as sure to be due while the node stops.
            node={"lease_ttl": 0.3, "connector_lease_ttl": 0.06},
        )
    )
    node = Node(settings)
    running_at_close: list[int] = []
    close = SqlStore.close

    async def watched_close(store: SqlStore) -> None:
        running_at_close.append(sum(not t.done() for t in node._tasks))
        await close(store)

    monkeypatch.setattr(SqlStore, "close", watched_close)
    await asyncio.wait_for(node.start(), 20)
    await asyncio.sleep(0.1)  # a few lease rounds and dispatcher claims
    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(node.stop(), 20)
    assert running_at_close == [0]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert "not open" not in caplog.text
