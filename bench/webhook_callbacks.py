"""Benchmark: per-message callbacks per second from one process to a local receiver over
keep-alive connections (issue #19's target: >= 5,000/s on the 2-core machine).

  .venv/bin/python bench/webhook_callbacks.py                  # 5 s, 64 in flight
  .venv/bin/python bench/webhook_callbacks.py --seconds 2 --concurrency 128

The receiver runs in a child process (a bare asyncio protocol that answers 204 to each
request), so the figure is the sender's: HttpSender (our HTTP/1.1 client with the SSRF check at
connect time) building each callback form. Both processes share the machine's 2 cores. To
compare with another tree, run this file with PYTHONPATH=<that tree>/src.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import time
from multiprocessing.connection import Connection
from typing import cast

from smsgate.event_loop import install_uvloop
from smsgate.webhooks.callback_form import CallbackFields, callback_request
from smsgate.webhooks.sender import HttpSender, SenderSettings

_ANSWER = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"


class _Answer204(asyncio.Protocol):
    """Answers every complete request (head plus content-length body) with 204."""

    def __init__(self) -> None:
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].lower()
            length = 0
            at = head.find(b"content-length:")
            if at >= 0:
                length = int(head[at + 15 :].split(b"\r\n", 1)[0])
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.transport.write(_ANSWER)


def _receiver(port_out: Connection) -> None:
    install_uvloop()

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Answer204, "127.0.0.1", 0)
        port_out.send(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(main())


async def _send(port: int, seconds: float, concurrency: int) -> tuple[int, int, float, float]:
    settings = SenderSettings(allow_private=True, max_connections=concurrency)
    url = f"http://127.0.0.1:{port}/dlr?order=17"
    ok = failed = 0
    async with HttpSender(settings) as sender:
        deadline = time.perf_counter() + seconds

        async def worker(n: int) -> None:
            nonlocal ok, failed
            i = 0
            while time.perf_counter() < deadline:
                i += 1
                fields = CallbackFields(f"{n}-{i}", "380501234567", "DELIVRD", "000", 1)
                attempt = await sender.send(callback_request(url, fields))
                if attempt.succeeded:
                    ok += 1
                else:
                    failed += 1

        await sender.send(callback_request(url, CallbackFields("warm", "1", "DELIVRD", "", 1)))
        started = time.perf_counter()
        cpu = time.process_time()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
        cpu_share = (time.process_time() - cpu) / elapsed
    return ok, failed, cpu_share, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    parent, child = multiprocessing.Pipe()
    receiver = multiprocessing.Process(target=_receiver, args=(child,), daemon=True)
    receiver.start()
    try:
        port = parent.recv()
        install_uvloop()
        ok, failed, cpu_share, elapsed = asyncio.run(_send(port, args.seconds, args.concurrency))
    finally:
        receiver.terminate()
    print(
        f"{ok / elapsed:,.0f} callbacks/s ({ok} ok, {failed} failed in {elapsed:.1f} s, "
        f"{args.concurrency} in flight, sender CPU {cpu_share:.0%} of one core = "
        f"{cpu_share * elapsed / max(ok, 1) * 1e6:,.0f} us per callback, "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]})"
    )


if __name__ == "__main__":
    main()
