"""Benchmark: /sms/send throughput and latency on one gateway node (SQLite, simulator operator).

  .venv/bin/python bench/http_send.py            # all three runs
  .venv/bin/python bench/http_send.py --only 1   # one recipient per request, saturated (wrk)
  .venv/bin/python bench/http_send.py --operator off --connections 64   # accepting only

Runs: (1) 1 recipient per request, wrk saturating --connections keep-alive connections (32 by
default); (2) 100 recipients
per request; (3) an open-loop 1,000 requests/s from a small asyncio generator, for p99 latency.
The load generator shares the machine's 2 cores with the gateway. wrk comes from Debian's
package (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import GatewayProcess, cpu_seconds, machine, rss_mb

LUA = r"""
local counter = 0
local token = "%(token)s"
local per_request = %(recipients)d
function setup(thread)
  thread:set("thread_id", %(seed)d + math.random(1, 1000000))
end
request = function()
  counter = counter + 1
  local phones = {}
  for i = 1, per_request do
    local n = (thread_id * 7919 + counter * per_request + i) %% 10000000
    phones[i] = string.format('"38050%%07d"', n)
  end
  local body = '{"phone":[' .. table.concat(phones, ",") .. '],"message":"bench ' ..
    thread_id .. " " .. counter .. '","src_addr":"smsgate"}'
  return wrk.format("POST", "/sms/send",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
"""


def run_wrk(
    gw: GatewayProcess, recipients: int, seconds: int, connections: int
) -> dict[str, float]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is required: apt-get install wrk")
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(
        LUA % {"token": gw.credentials["token"], "recipients": recipients, "seed": int(time.time())}
    )
    cpu0 = cpu_seconds(gw.pid)
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{gw.http_port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = cpu_seconds(gw.pid) - cpu0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "requests_per_s": rps,
        "messages_per_s": rps * recipients,
        "requests": total,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"),
        "cpu_us_per_message": cpu / max(1, total * recipients) * 1e6,
        "rss_mb": rss_mb(gw.pid),
    }


async def open_loop(
    gw: GatewayProcess, rate: float, seconds: float, connections: int = 32
) -> dict[str, float]:
    """Send at a fixed rate whatever the answers' speed; latency is measured per request."""
    token = gw.credentials["token"]
    latencies: list[float] = []
    failures = 0
    period = connections / rate
    stop_at = time.perf_counter() + seconds

    async def worker(n: int) -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection("127.0.0.1", gw.http_port)
        i = 0
        next_at = time.perf_counter() + period * n / connections
        while next_at < stop_at:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            i += 1
            phone = f"38067{(n * 100_000 + i) % 10_000_000:07d}"
            body = (
                f'{{"phone":["{phone}"],"message":"open loop {n} {i}","src_addr":"smsgate"}}'
            ).encode()
            req = (
                b"POST /sms/send HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer "
                + token.encode()
                + b"\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            started = time.perf_counter()
            writer.write(req)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not head.startswith(b"HTTP/1.1 200"):
                failures += 1
            next_at += period
        writer.close()

    cpu0 = cpu_seconds(gw.pid)
    await asyncio.gather(*(worker(n) for n in range(connections)))
    cpu = cpu_seconds(gw.pid) - cpu0
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {
        "rate": rate,
        "requests": len(latencies),
        "failures": failures,
        "p50_ms": pick(0.50),
        "p99_ms": pick(0.99),
        "max_ms": latencies[-1] * 1000,
        "cpu_us_per_message": cpu / max(1, len(latencies)) * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", type=int, choices=[1, 2, 3])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32, help="wrk's, for runs 1 and 2")
    parser.add_argument(
        "--operator",
        choices=["on", "off"],
        default="on",
        help="off: no operator listens, so the gateway only accepts (the queue grows, durably);"
        " on: the simulator takes every message, so dispatch and receipts share the gateway",
    )
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(
        "one gateway process (SQLite WAL NORMAL), operator "
        + ("simulator in its own process" if args.operator == "on" else "off (accept only)")
    )
    print("the load generator shares the 2 cores")
    gw = GatewayProcess(receipt_delay=0.5)
    if args.operator == "on":
        gw.start()
    else:
        gw.start_gateway(wait_bound=False)
    gw.top_up("10000000")  # ten million: no recipient is ever refused for money here
    try:
        if args.only in (None, 1):
            r = run_wrk(gw, recipients=1, seconds=args.seconds, connections=args.connections)
            print(
                f"[1] /sms/send 1 recipient, wrk -t2 -c{args.connections}: "
                f"{r['requests_per_s']:.0f} req/s, "
                f"p99 {r['p99_ms']:.1f} ms, non-2xx {r['non_2xx']}, "
                f"CPU {r['cpu_us_per_message']:.0f} µs/message, RSS {r['rss_mb']:.0f} MB"
            )
        if args.only in (None, 2):
            conns = min(8, args.connections)
            r = run_wrk(gw, recipients=100, seconds=args.seconds, connections=conns)
            print(
                f"[2] /sms/send 100 recipients, wrk -t2 -c{conns}: "
                f"{r['messages_per_s']:.0f} messages/s "
                f"({r['requests_per_s']:.0f} req/s), p99 {r['p99_ms']:.1f} ms, "
                f"non-2xx {r['non_2xx']}, "
                f"CPU {r['cpu_us_per_message']:.0f} µs/message"
            )
        if args.only in (None, 3):
            r = asyncio.run(open_loop(gw, rate=1000, seconds=args.seconds))
            print(
                f"[3] /sms/send 1 recipient at {r['rate']:.0f} req/s open loop: "
                f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms, "
                f"{r['requests']:.0f} requests, failures {r['failures']:.0f}, "
                f"CPU {r['cpu_us_per_message']:.0f} µs/message"
            )
    finally:
        gw.stop()


if __name__ == "__main__":
    main()
