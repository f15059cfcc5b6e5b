"""[http] keep_alive_timeout: an idle keep-alive connection is closed by the node after that
long, not before (a load balancer reusing connections needs it above its own idle timeout)."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

from smsgate.config import demo_settings, load_settings
from smsgate.node import Node


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_an_idle_connection_is_closed_after_the_keep_alive_timeout(tmp_path: Path) -> None:
    settings = demo_settings(
        load_settings(
            None,
            database={"url": f"sqlite+aiosqlite:///{tmp_path}/keep.db"},
            http={"host": "127.0.0.1", "port": free_port(), "keep_alive_timeout": 2},
            smpp={"enabled": False},
            simulator={"port": free_port()},
        )
    )
    node = Node(settings)
    await asyncio.wait_for(node.start(), 20)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", node.addresses.http_port)
        writer.write(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.startswith(b"HTTP/1.1 200"), head
        length = next(
            int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
            if line.startswith(b"content-length:")
        )  # fmt: skip
        await reader.readexactly(length)
        answered = time.monotonic()
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the node
        idle = time.monotonic() - answered
        writer.close()
        assert 1.5 <= idle <= 6, idle
    finally:
        await asyncio.wait_for(node.stop(), 20)
