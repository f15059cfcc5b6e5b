"""A delivery-report receiver for side-by-side runs: answers every HTTP request 200 at once over
keep-alive and counts the final reports, whichever peer sends them (Kannel's `dlr-url` GET,
smsgate's per-message callback POST).

A raw asyncio protocol, not a framework, so the receiver is never what limits a run. A report
counts once per phone number (a peer's retry is not a second delivery). Counters go to a JSON
file every 200 ms for bench/peers.py.

    python bench/callback_counter.py --port 8999 --stats /tmp/callbacks.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nOK"
LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


class Counts:
    def __init__(self) -> None:
        self.requests = 0
        self.first = 0.0
        self.last = 0.0
        self.phones: set[str] = set()
        self.statuses: dict[str, int] = {}

    def add(self, fields: dict[str, list[str]]) -> None:
        now = time.time()
        if not self.requests:
            self.first = now
        self.requests += 1
        self.last = now
        # smsgate: status=DELIVRD; Kannel: type=1 (delivered), phone in p.
        status = (fields.get("status") or fields.get("type") or ["?"])[0]
        self.statuses[status] = self.statuses.get(status, 0) + 1
        phone = (fields.get("phone") or fields.get("p") or [""])[0]
        if phone:
            self.phones.add(phone)

    def as_dict(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "distinct": len(self.phones),
            "first": self.first,
            "last": self.last,
            "statuses": self.statuses,
        }


class Receiver(asyncio.Protocol):
    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        answers = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = self.buffer[:end]
            match = LENGTH.search(head)
            length = int(match.group(1)) if match else 0
            if len(self.buffer) < end + 4 + length:
                break
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            target = head.split(b" ", 2)[1].decode("latin-1")
            fields = parse_qs(urlsplit(target).query)
            if body:
                fields.update(parse_qs(body.decode("utf-8", "replace")))
            self.counts.add(fields)
            answers += 1
        if answers and self.transport is not None:
            self.transport.write(OK * answers)


async def serve(port: int, stats: Path) -> None:
    counts = Counts()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Receiver(counts), "127.0.0.1", port, backlog=1024)
    async with server:
        while True:
            tmp = stats.with_suffix(".tmp")
            tmp.write_text(json.dumps(counts.as_dict()))
            os.replace(tmp, stats)
            await asyncio.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stats", type=Path, required=True)
    args = parser.parse_args()
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.stats))


if __name__ == "__main__":
    main()
