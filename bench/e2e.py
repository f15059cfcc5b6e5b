"""End to end on one node: /sms/send with 100 recipients a request at a steady pace, every message
through submit_sm, the simulator's receipt and a stored DELIVRD; prints messages/s completed, the
gateway's peak RSS and CPU per message of the gateway and of the simulator.

Completion is read from the database (read-only), never assumed from the send side. It also
holds the paced bulk sender and the metrics/DB probes bench/dispatch.py reuses; it changes
nothing in src/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import GatewayProcess, cpu_seconds, machine, peak_rss_mb

RECIPIENTS = 100


def phone(n: int) -> str:
    """The n-th distinct Ukrainian mobile number; it ends in 8, so never in one of the
    simulator's magic endings 0001-0007."""
    return f"38067{(n * 10 + 8) % 10_000_000:07d}"


@dataclass(slots=True)
class SendReport:
    accepted: int = 0
    rejected: int = 0
    failed_requests: int = 0
    started: float = 0.0
    finished: float = 0.0
    latencies: list[float] = field(default_factory=list)
    rejections: dict[str, int] = field(default_factory=dict)

    def pick_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def send_paced(
    port: int,
    token: str,
    messages: int,
    rate: float | None,
    *,
    connections: int = 4,
    recipients: int = RECIPIENTS,
    tag: str = "e2e",
) -> SendReport:
    """POST /sms/send requests of `recipients` numbers each, request k due at start + k/req_rate
    (rate in messages/s; None sends as fast as `connections` keep-alive connections allow).
    A connection that falls behind its schedule sends at once, so a slow gateway shows as a
    sending time longer than planned, not as lost requests."""
    requests = (messages + recipients - 1) // recipients
    report = SendReport()
    next_request = 0
    req_period = recipients / rate if rate else 0.0

    async def worker() -> None:
        nonlocal next_request
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_request < requests:
                k = next_request
                next_request += 1
                due = report.started + k * req_period
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                first = k * recipients
                count = min(recipients, messages - first)
                body = json.dumps(
                    {
                        "phone": [phone(first + i) for i in range(count)],
                        "message": f"{tag} request {k}",
                        "src_addr": "smsgate",
                    }
                ).encode()
                writer.write(
                    b"POST /sms/send HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json"
                    b"\r\nAuthorization: Bearer "
                    + token.encode()
                    + b"\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
                t0 = time.perf_counter()
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
                found = re.search(rb"(?i)content-length: (\d+)", head)
                length = int(found.group(1)) if found else 0
                answer = await asyncio.wait_for(reader.readexactly(length), 60)
                report.latencies.append(time.perf_counter() - t0)
                if not head.startswith(b"HTTP/1.1 200"):
                    report.failed_requests += 1
                    report.rejected += count
                    continue
                inner = json.loads(answer).get("success_request", {})
                report.accepted += len(inner.get("info") or {})
                for reason in (inner.get("add_info") or {}).values():
                    report.rejected += 1
                    report.rejections[reason] = report.rejections.get(reason, 0) + 1
        finally:
            writer.close()

    report.started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    report.finished = time.perf_counter()
    return report


def metric(port: int, name: str) -> float:
    """The sum over labels of one metric on the node's /metrics listener (0 when absent)."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def read_only(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)


def message_statuses(db: Path) -> dict[str, int]:
    with read_only(db) as conn:
        return dict(conn.execute("SELECT status, count(*) FROM messages GROUP BY status"))


def part_states(db: Path) -> dict[int, int]:
    with read_only(db) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM parts GROUP BY state"))


def top_up(gw: GatewayProcess, amount: str) -> None:
    gw.top_up(amount)


async def wait_delivered(gw: GatewayProcess, messages: int, timeout: float) -> float:
    """perf_counter time when the database first shows `messages` messages DELIVRD. /metrics is
    polled while receipts are still coming (cheap); the DB is asked only near the end."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if metric(gw.metrics_port, "smsgate_receipts_total") >= messages:
            break
        await asyncio.sleep(0.2)
    db = gw.workdir / "smsgate.db"
    while time.perf_counter() < deadline:
        if message_statuses(db).get("DELIVRD", 0) >= messages:
            return time.perf_counter()
        await asyncio.sleep(0.1)
    raise TimeoutError(f"not all delivered after {timeout}s: {message_statuses(db)}")


async def run(messages: int, rate: float | None, connections: int, receipt_delay: float) -> None:
    print(f"machine: {machine()}")
    print("gateway, simulator and this load generator share the machine's cores")
    gw = GatewayProcess(receipt_delay=receipt_delay)
    gw.start()
    try:
        top_up(gw, str(messages))  # 1.0000 a message: twice the price of one part
        assert gw.simulator is not None
        print(f"gateway pid {gw.pid}, work dir {gw.workdir}", flush=True)
        gw_cpu0, sim_cpu0 = cpu_seconds(gw.pid), cpu_seconds(gw.simulator.pid)
        sending = asyncio.ensure_future(
            send_paced(
                gw.http_port, gw.credentials["token"], messages, rate, connections=connections
            )
        )
        report = await sending
        done_at = await wait_delivered(gw, report.accepted, timeout=max(120.0, messages / 500))
        gw_cpu = cpu_seconds(gw.pid) - gw_cpu0
        sim_cpu = cpu_seconds(gw.simulator.pid) - sim_cpu0
        elapsed = done_at - report.started
        send_time = report.finished - report.started
        print(
            f"sent {messages} messages in {send_time:.1f} s: {messages / send_time:.0f} msg/s "
            f"against a pace of {'max' if rate is None else f'{rate:.0f}'} msg/s "
            f"({connections} connections); "
            f"accepted {report.accepted}, rejected {report.rejected} {report.rejections}, "
            f"failed requests {report.failed_requests}; "
            f"request p50 {report.pick_ms(0.5):.0f} ms, p99 {report.pick_ms(0.99):.0f} ms"
        )
        print(f"message statuses: {message_statuses(gw.workdir / 'smsgate.db')}")
        print(
            f"[e2e] {report.accepted} DELIVRD in {elapsed:.1f} s from the first send: "
            f"{report.accepted / elapsed:.0f} messages/s completed; "
            f"gateway peak RSS {peak_rss_mb(gw.pid):.0f} MB; CPU per message: gateway "
            f"{gw_cpu / max(1, report.accepted) * 1e6:.0f} µs, simulator "
            f"{sim_cpu / max(1, report.accepted) * 1e6:.0f} µs"
        )
    finally:
        gw.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--rate", type=float, default=5_000.0, help="messages/s; 0 = max")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--receipt-delay", type=float, default=0.5)
    args = parser.parse_args()
    asyncio.run(run(args.messages, args.rate or None, args.connections, args.receipt_delay))


if __name__ == "__main__":
    main()
