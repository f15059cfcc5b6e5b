"""A node with [retention] settings sweeps: it takes the `retention` lease (one node at a time)
and a finished message past delete_after_days is gone; without the settings it never sweeps."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

from smsgate.config import load_settings
from smsgate.node import Node
from smsgate.store.sql_store import SqlStore

from .builders import new_message, request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_node_with_retention_settings_deletes_old_finished_messages(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/kept.db"
    store = SqlStore(url)
    await store.open()
    try:
        account = (await store.create_account("shop")).id
        await store.top_up(account, 10**6)
        long_ago = time.time() - 40 * 86_400
        old = new_message(account, now=long_ago)
        assert (await store.accept(request(account, old, now=long_ago))).outcomes
        assert await store.cancel(account, old.id, long_ago + 1)
    finally:
        await store.close()
    settings = load_settings(
        None,
        database={"url": url},
        http={"host": "127.0.0.1", "port": free_port()},
        smpp={"enabled": False},
        retention={"erase_text_after_days": 7, "delete_after_days": 30, "every": 0.1},
    )
    node = Node(settings)
    await asyncio.wait_for(node.start(), 20)
    try:
        deadline = time.monotonic() + 10
        while await node.store.statuses(account, [old.id]) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert await node.store.statuses(account, [old.id]) == {}
        # Its ttl is two rounds (0.2 s here), and a slow sweep outlasts it: any recent one.
        leases = await node.store.live_leases(time.time() - 5)
        assert leases["retention"][0] == node.holder
    finally:
        await asyncio.wait_for(node.stop(), 20)
