"""The simulator's control surface: a tiny HTTP endpoint to read its counters and change its
faults while it runs (`smsgate simulator --control-port 8776`).

    curl localhost:8776/faults                                    # the faults in force
    curl -d 'throttle_rate=0.2,refuse_binds=3' localhost:8776/faults  # change some
    curl localhost:8776/counters
    curl -d 'from=380501234567&to=7000&text=Hello' localhost:8776/mo  # an inbound SMS

One request per connection, no keep-alive: a tool for operators of a test, never on a hot path.
It listens on the simulator's host only and has no authentication: keep it on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from urllib.parse import parse_qs

from smsgate.simulator.faults import parse_faults
from smsgate.simulator.running import Simulator

_MAX_BODY = 4096


@asynccontextmanager
async def control_server(sim: Simulator, host: str, port: int) -> AsyncIterator[asyncio.Server]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, body = await _handle(sim, reader)
        except (ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            status, body = 400, {"error": str(exc)}
        data = json.dumps(body).encode()
        writer.write(
            f"HTTP/1.0 {status} {'OK' if status == 200 else 'Error'}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, host, port)
    try:
        yield server
    finally:
        server.close()
        await server.wait_closed()


async def _handle(sim: Simulator, reader: asyncio.StreamReader) -> tuple[int, object]:
    request = (await asyncio.wait_for(reader.readline(), 5)).decode("latin-1").split()
    if len(request) < 2:
        raise ValueError("not an HTTP request")
    method, path = request[0], request[1]
    length = 0
    while line := (await asyncio.wait_for(reader.readline(), 5)).strip():
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if not 0 <= length <= _MAX_BODY:
        raise ValueError(f"a body of at most {_MAX_BODY} bytes")
    body = (await asyncio.wait_for(reader.readexactly(length), 5)).decode() if length else ""
    if path == "/faults" and method == "GET":
        return 200, _faults(sim)
    if path == "/faults" and method == "POST":
        try:
            sim.set_faults(**parse_faults(body))
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        return 200, _faults(sim)
    if path == "/mo" and method == "POST":
        form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
        missing = [k for k in ("from", "to", "text") if not form.get(k)]
        if missing:
            raise ValueError(f"an inbound SMS needs {', '.join(missing)}")
        parts = sim.handler.send_mo(form["from"], form["to"], form["text"], form.get("system_id"))
        return 200, {"parts": parts}
    if path == "/counters" and method == "GET":
        c = sim.counters
        return 200, {
            "binds": c.binds,
            "bind_failures": c.bind_failures,
            "submits": c.submits,
            "refused": c.refused,
            "throttled": c.throttled,
            "dropped_connections": c.dropped_connections,
            "receipts_sent": c.receipts_sent,
            "receipts_acked": c.receipts_acked,
            "mo_sent": c.mo_sent,
            "destinations": len(c.by_destination),
            "untracked": c.untracked,
            "outcomes": {str(k): v for k, v in c.outcomes.items()},
            "faults": dict(c.faults),
            "pending_receipts": sim.handler.pending_receipts,
        }
    return 404, {
        "error": f"no {method} {path}; try GET /faults, POST /faults, GET /counters, POST /mo"
    }


def _faults(sim: Simulator) -> dict[str, object]:
    return {
        **asdict(sim.faults),
        "drop_after": sim.config.drop_after,
        "never_answer": sim.config.never_answer,
    }
