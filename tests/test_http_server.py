"""QuietServer: uvicorn ticking once a second still answers with a Date header, and exit()
ends it at once rather than at its next tick."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import uvicorn

from smsgate.http_server import QuietServer


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def test_it_serves_with_a_date_and_exits_at_once() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", loop="none")
    server = QuietServer(config)
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200")
        assert b"\r\ndate: " in answer.lower()
        await asyncio.sleep(0.05)  # in its one-second wait between ticks
        started = time.monotonic()
        server.exit()
        await asyncio.wait_for(serving, 10)
        assert time.monotonic() - started < 0.9  # not at the next tick
    finally:
        serving.cancel()
        sock.close()
