"""A tiny real HTTP/1.1 receiver for the sender's tests: keep-alive, and paths that behave as
receivers do in the wild (fail N times, answer slowly or never, send a huge body, redirect).

Written on asyncio streams rather than uvicorn so each test starts one in a millisecond and
the throughput check measures the sender more than the receiver.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

HUGE_BODY = 8 * 1024 * 1024


@dataclass
class Received:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    hits: Counter[str] = field(default_factory=Counter)
    record: bool = True
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)  # type: ignore[arg-type]
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, v in (line.split(":", 1) for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                url = urlsplit(target)
                if self.record:
                    self.received.append(
                        Received(method, url.path, parse_qsl(url.query), headers, body)
                    )
                await self._answer(url.path, writer)
        finally:
            writer.close()

    async def _answer(self, path: str, writer: asyncio.StreamWriter) -> None:
        self.hits[path] += 1
        if path.startswith("/fail/"):
            # /fail/N/anything: 500 for the first N calls of that path, then 200.
            failures = int(path.split("/")[2])
            status = 500 if self.hits[path] <= failures else 200
            writer.write(_response(status, b"nope" if status == 500 else b"ok"))
        elif path == "/slow":
            await asyncio.sleep(30)
        elif path == "/pause":
            await asyncio.sleep(0.4)
            writer.write(_response(204, b""))
        elif path == "/huge":
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % HUGE_BODY)
            chunk = b"x" * 65536
            for _ in range(HUGE_BODY // len(chunk)):
                writer.write(chunk)
                await writer.drain()
        elif path == "/redirect":
            writer.write(_response(302, b"", [("location", "/ok")]))
        elif path == "/busy":
            writer.write(_response(429, b"slow down", [("retry-after", "7")]))
        elif path == "/chunked-refusal":
            writer.write(
                b"HTTP/1.1 503 X\r\ntransfer-encoding: chunked\r\n\r\n"
                b"5\r\ndown \r\n10\r\nfor maintenance\n\r\n0\r\n\r\n"
            )
        elif path == "/missing":
            writer.write(_response(404, b"no such hook"))
        else:
            writer.write(_response(204, b""))
        await writer.drain()


def _response(status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} X", f"content-length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers or []]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@contextlib.asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        for task in receiver.tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1)
