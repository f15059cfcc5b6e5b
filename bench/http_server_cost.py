"""Benchmark: the HTTP server's own CPU per request, apart from smsgate's doors.

A trivial ASGI app (await the request, answer a 100-byte JSON body) is served in a process of
its own by one of:
  ours      uvicorn as the node runs it (its httptools protocol with doors/http_protocol.py's
            limits and one-write answers, http_server.QuietServer);
  httptools uvicorn's plain httptools protocol;
  granian   granian embedded in the same asyncio loop (granian.server.embed, ASGI interface;
            not a dependency: `.venv/bin/pip install granian` first).
wrk drives it with 50 keep-alive connections; CPU comes from /proc/PID/stat around the run.

  .venv/bin/python bench/http_server_cost.py --servers ours,httptools,granian --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import cpu_seconds, free_port, machine

BODY = b'{"success_request":{"info":{"12345678901234567890":"380501234567"}},"ok":true,"p":"xx"}'


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})


async def serve(kind: str, port: int) -> None:
    if kind == "granian":
        from granian.constants import Interfaces  # type: ignore[import-not-found]
        from granian.server.embed import Server  # type: ignore[import-not-found]

        await Server(app, address="127.0.0.1", port=port, interface=Interfaces.ASGI).serve()
        return
    import uvicorn

    from smsgate.doors.http_protocol import HttpLimits, protocol_class
    from smsgate.http_server import QuietServer

    limits = HttpLimits(max_connections=1000, header_timeout=10, body_timeout=10, stall_timeout=10)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        http=protocol_class(limits) if kind == "ours" else "httptools",
        proxy_headers=False,
        server_header=False,
        loop="none",
    )
    await QuietServer(config).serve()


def measure(kind: str, seconds: int) -> tuple[float, float]:
    """(requests/s, server CPU µs per request)"""
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", kind, "--port", str(port)])
    try:
        time.sleep(2)
        before = cpu_seconds(server.pid)
        out = subprocess.run(
            ["wrk", "-t2", "-c50", f"-d{seconds}s", f"http://127.0.0.1:{port}/"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        used = cpu_seconds(server.pid) - before
    finally:
        server.terminate()
        server.wait(10)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return rate, used / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="ours,httptools,granian")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        import uvloop

        uvloop.install()
        asyncio.run(serve(args.serve, args.port))
        return
    print(f"# {machine()}; wrk -t2 -c50 -d{args.seconds}s, a 100-byte answer")
    for _ in range(args.rounds):
        for kind in args.servers.split(","):
            rate, cpu = measure(kind, args.seconds)
            print(f"{kind}: {rate:,.0f} req/s, server CPU {cpu:.1f} µs/request", flush=True)


if __name__ == "__main__":
    main()
