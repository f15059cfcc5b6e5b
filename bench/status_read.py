"""`/sms/status` for 100 random existing ids with millions of messages stored: fills a SQLite
store once (cached under the temp dir, reused by later runs), starts a node on it and times
sequential keep-alive requests; prints p50/p99/max and the database's size.

The fill writes messages rows straight into the store's own migrated schema for the demo
account (parts are not needed: the status is a column of messages); it changes nothing in src/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sqlite3
import tempfile
import time
from pathlib import Path

from harness import GatewayProcess, cpu_seconds, machine, rss_mb

from smsgate.domain.dedupe import dedupe_key
from smsgate.domain.ids import EPOCH_TICKS, NODE_BITS, SEQUENCE_BITS, TICKS_PER_SECOND
from smsgate.gateway.demo_account import ensure_demo_account
from smsgate.store.sql_store import SqlStore

# Ids as the node mints them (10 ms ticks | node | sequence), 1,000 a tick, so they are spread
# the way a real store's are, not 1..N.
FIRST_TICK = 100_000_000  # about 11.6 days after the id epoch
PER_TICK = 1_000
STATUSES = ["DELIVRD"] * 90 + ["UNDELIV"] * 5 + ["EXPIRED"] * 2 + ["ENROUTE"] * 3


def message_id(n: int) -> int:
    tick, seq = divmod(n, PER_TICK)
    return ((FIRST_TICK + tick) << (NODE_BITS + SEQUENCE_BITS)) | seq


def cache_dir(messages: int) -> Path:
    return Path(tempfile.gettempdir()) / f"smsgate-bench-status-{messages}"


async def _migrate_with_demo_account(workdir: Path) -> int:
    store = SqlStore(f"sqlite+aiosqlite:///{workdir}/smsgate.db")
    await store.open()
    try:
        await ensure_demo_account(store, workdir / "demo-credentials.json")
        creds = await store.credentials("demo")
        assert creds is not None
        return creds.account.id
    finally:
        await store.close()


def fill(workdir: Path, messages: int, chunk: int = 200_000) -> None:
    """Messages rows for the demo account, in big transactions; the marker file is written last
    so an interrupted fill is redone, not reused."""
    done = workdir / "filled"
    if done.exists():
        return
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in workdir.glob("smsgate.db*"):
        stale.unlink()
    account_id = asyncio.run(_migrate_with_demo_account(workdir))
    started = time.perf_counter()
    conn = sqlite3.connect(workdir / "smsgate.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")  # a throwaway fill: redone if interrupted
    conn.execute("PRAGMA cache_size = -200000")
    insert = (
        "INSERT INTO messages (id, account_id, sender, phone, text, data_coding, parts,"
        " price_per_part, status, door, integration_id, dedupe_key, created_at, expires_at,"
        " done_at, error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
    )
    for first in range(0, messages, chunk):
        rows = []
        for n in range(first, min(messages, first + chunk)):
            mid = message_id(n)
            created = (EPOCH_TICKS + (mid >> (NODE_BITS + SEQUENCE_BITS))) / TICKS_PER_SECOND
            number = f"38067{n % 10_000_000:07d}"
            text = f"status bench {n // 100}"
            rows.append(
                (
                    mid,
                    account_id,
                    "smsgate",
                    number,
                    text,
                    0,
                    1,
                    5_000,
                    STATUSES[n % 100],
                    "json",
                    None,
                    dedupe_key(account_id, number, text),
                    created,
                    created + 86_400,
                    created + 5,
                    0,
                )
            )
        conn.execute("BEGIN")
        conn.executemany(insert, rows)
        conn.execute("COMMIT")
        print(f"  filled {min(messages, first + chunk):,} rows", flush=True)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    done.write_text(str(messages))
    print(f"fill: {messages:,} messages in {time.perf_counter() - started:.0f} s")


def db_size_mb(workdir: Path) -> float:
    return sum(p.stat().st_size for p in workdir.glob("smsgate.db*")) / 1e6


async def time_requests(
    port: int, token: str, messages: int, requests: int, per_request: int, seed: int
) -> list[float]:
    """Sequential POST /sms/status on one keep-alive connection; every answer is checked to
    carry a status for each id asked."""
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    latencies: list[float] = []
    try:
        for _ in range(requests):
            ids = [str(message_id(n)) for n in rng.sample(range(messages), per_request)]
            body = json.dumps({"id_sms": ids}).encode()
            req = (
                b"POST /sms/status HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json"
                b"\r\nAuthorization: Bearer "
                + token.encode()
                + b"\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
            t0 = time.perf_counter()
            writer.write(req)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
            found = re.search(rb"(?i)content-length: (\d+)", head)
            answer = await asyncio.wait_for(
                reader.readexactly(int(found.group(1)) if found else 0), 30
            )
            latencies.append(time.perf_counter() - t0)
            info = json.loads(answer)["success_request"].get("info") or {}
            if not head.startswith(b"HTTP/1.1 200") or len(info) != per_request:
                raise RuntimeError(f"bad answer: {head[:40]!r} {answer[:200]!r}")
    finally:
        writer.close()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--ids", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print("gateway, simulator and this load generator share the machine's cores")
    workdir = cache_dir(args.messages)
    fill(workdir, args.messages)
    print(f"database: {workdir / 'smsgate.db'}, {db_size_mb(workdir):.0f} MB with WAL")
    gw = GatewayProcess(workdir=workdir)
    gw.start()
    try:
        token = gw.credentials["token"]
        asyncio.run(time_requests(gw.http_port, token, args.messages, args.warmup, args.ids, 0))
        cpu0 = cpu_seconds(gw.pid)
        lat = asyncio.run(
            time_requests(gw.http_port, token, args.messages, args.requests, args.ids, args.seed)
        )
        cpu = cpu_seconds(gw.pid) - cpu0
        lat.sort()

        def pick(q: float) -> float:
            return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000

        print(
            f"[status] {len(lat)} sequential /sms/status requests of {args.ids} random ids out of "
            f"{args.messages:,} (after {args.warmup} warm-up): p50 {pick(0.5):.2f} ms, "
            f"p99 {pick(0.99):.2f} ms, max {lat[-1] * 1000:.2f} ms, "
            f"{len(lat) / sum(lat):.0f} req/s; gateway CPU {cpu / len(lat) * 1e3:.2f} ms/request, "
            f"RSS {rss_mb(gw.pid):.0f} MB; load average {os.getloadavg()[0]:.2f}"
        )
    finally:
        gw.stop()


if __name__ == "__main__":
    main()
