"""`GET /api/v1/messages` (the native API's search) with millions of messages stored: fills a
SQLite store once (cached under the temp dir, reused by later runs), starts a node on it and
times sequential keep-alive searches of each kind; prints p50/p99/max per kind and over all.

The fill is one INSERT ... SELECT over a recursive counter in one transaction, straight into the
store's own migrated schema (no Python per row): 5M rows take minutes, not an hour, on a loaded
2-core machine. The demo account holds them all, the worst case for an account's search: one
message a second for about two months, 200,000 distinct recipients (25 messages each), statuses
90% DELIVRD, 5% UNDELIV, 2% EXPIRED, 2% ENROUTE, 1% REJECTD, senders 70% "smsgate", 29.9%
"Promo", 0.1% "Rare". A second account holds 10% as many rows, so the account's condition is
not trivially true.

Kinds of search (each its own random draws):
  first      the newest page, no filter
  deep       a page after a random cursor anywhere in the account's history
  phone      one recipient's messages (25 of 5M)
  status     a rare status (REJECTD, 1%) and a common one (UNDELIV, 5%)
  sender     a rare sender (0.1%)
  day        one random day (since and until)
  day+status UNDELIV on one random day
  hour+rare  REJECTD within one random hour (about 36 of 3,600 rows)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from harness import GatewayProcess, cpu_seconds, machine, rss_mb

from smsgate.domain.ids import EPOCH_TICKS, NODE_BITS, SEQUENCE_BITS, TICKS_PER_SECOND
from smsgate.gateway.demo_account import ensure_demo_account
from smsgate.store.sql_store import SqlStore

SHIFT = NODE_BITS + SEQUENCE_BITS
FIRST_TICK = 100_000_000  # about 11.6 days after the id epoch
PHONES = 200_000
PAGE = 50
RATE = 40.0  # searches a second


def tick_of(n: int) -> int:
    """The n-th message's 10 ms tick: one message a second."""
    return FIRST_TICK + n * TICKS_PER_SECOND


def message_id(n: int) -> int:
    return (tick_of(n) << SHIFT) | (n % 2048)


def created_at(n: int) -> float:
    return (EPOCH_TICKS + tick_of(n)) / TICKS_PER_SECOND


def phone_of(n: int) -> str:
    return f"38067{(n * 7919) % PHONES:07d}"


def cache_dir(messages: int) -> Path:
    return Path(tempfile.gettempdir()) / f"smsgate-bench-search-{messages}"


async def _migrate_with_accounts(workdir: Path) -> tuple[int, int]:
    store = SqlStore(f"sqlite+aiosqlite:///{workdir}/smsgate.db")
    await store.open()
    try:
        await ensure_demo_account(store, workdir / "demo-credentials.json")
        creds = await store.credentials("demo")
        assert creds is not None
        other = await store.create_account("other")
        return creds.account.id, other.id
    finally:
        await store.close()


# One row per n of the counter; the same expressions as the Python helpers above.
_FILL = f"""
WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n + 1 < :count)
INSERT INTO messages (id, account_id, sender, phone, text, data_coding, parts, price_per_part,
                      status, door, integration_id, dedupe_key, created_at, expires_at, done_at,
                      error, client_ref)
SELECT
  (((:first_tick + n * {TICKS_PER_SECOND}) << {SHIFT}) | (n % 2048)) + :id_offset,
  :account_id,
  CASE WHEN n % 1000 = 999 THEN 'Rare' WHEN n % 1000 >= 700 THEN 'Promo' ELSE 'smsgate' END,
  '38067' || printf('%07d', (n * 7919) % {PHONES}),
  'search bench ' || (n / 100),
  0, 1, 5000,
  CASE WHEN n % 100 < 90 THEN 'DELIVRD' WHEN n % 100 < 95 THEN 'UNDELIV'
       WHEN n % 100 < 97 THEN 'EXPIRED' WHEN n % 100 < 99 THEN 'ENROUTE' ELSE 'REJECTD' END,
  'api', NULL, randomblob(16),
  ({EPOCH_TICKS} + :first_tick + n * {TICKS_PER_SECOND}) / {float(TICKS_PER_SECOND)},
  ({EPOCH_TICKS} + :first_tick + n * {TICKS_PER_SECOND}) / {float(TICKS_PER_SECOND)} + 86400,
  ({EPOCH_TICKS} + :first_tick + n * {TICKS_PER_SECOND}) / {float(TICKS_PER_SECOND)} + 5,
  0,
  CASE WHEN n % 10 = 0 THEN 'ref-' || n END
FROM c
"""


def fill(workdir: Path, messages: int) -> None:
    """The marker file is written last, so an interrupted fill is redone, not reused."""
    done = workdir / "filled"
    if done.exists():
        return
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in workdir.glob("smsgate.db*"):
        stale.unlink()
    account_id, other_id = asyncio.run(_migrate_with_accounts(workdir))
    started = time.perf_counter()
    conn = sqlite3.connect(workdir / "smsgate.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")  # a throwaway fill: redone if interrupted
    conn.execute("PRAGMA cache_size = -400000")
    conn.execute("BEGIN")
    # The other account's ids sit in the same ticks, on node 1 (bit 11), so they interleave.
    for account, count, offset in ((account_id, messages, 0), (other_id, messages // 10, 2048)):
        conn.execute(
            _FILL,
            {"count": count, "first_tick": FIRST_TICK, "account_id": account, "id_offset": offset},
        )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    done.write_text(str(messages))
    print(
        f"fill: {messages:,} + {messages // 10:,} messages in {time.perf_counter() - started:.0f} s"
    )


def db_size_mb(workdir: Path) -> float:
    return sum(p.stat().st_size for p in workdir.glob("smsgate.db*")) / 1e6


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def kinds(messages: int) -> dict[str, Callable[[random.Random], dict[str, str]]]:
    """Each kind draws its query parameters; a cursor is asked for as the API would give it."""
    from smsgate.doors.native.messages import _cursor  # the opaque cursor, as the API makes it

    days = max(1, int((created_at(messages - 1) - created_at(0)) // 86_400))

    def day_start(rng: random.Random) -> float:
        return created_at(0) + rng.randrange(days) * 86_400

    def hour_start(rng: random.Random) -> float:
        return created_at(0) + rng.randrange(days * 24) * 3_600

    return {
        "first": lambda rng: {},
        "deep": lambda rng: {"cursor": _cursor(message_id(rng.randrange(messages)))},
        "phone": lambda rng: {"phone": phone_of(rng.randrange(messages))},
        "status": lambda rng: {"status": rng.choice(["REJECTD", "UNDELIV"])},
        "sender": lambda rng: {"sender": "Rare"},
        "day": lambda rng: (lambda t: {"since": _iso(t), "until": _iso(t + 86_400)})(
            day_start(rng)
        ),
        "day+status": lambda rng: (
            lambda t: {"since": _iso(t), "until": _iso(t + 86_400), "status": "UNDELIV"}
        )(day_start(rng)),
        "hour+rare": lambda rng: (
            lambda t: {"since": _iso(t), "until": _iso(t + 3_600), "status": "REJECTD"}
        )(hour_start(rng)),
    }


def time_searches(
    port: int, token: str, messages: int, per_kind: int, seed: int
) -> dict[str, list[float]]:
    """Sequential searches on one keep-alive connection at RATE a second, the kinds interleaved;
    every answer is checked to be a 200 with a page of messages that match."""
    rng = random.Random(seed)
    drawn = kinds(messages)
    order = [name for name in drawn for _ in range(per_kind)]
    rng.shuffle(order)
    latencies: dict[str, list[float]] = {name: [] for name in drawn}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as client:
        next_at = time.perf_counter()
        for name in order:
            params = {"limit": str(PAGE), **drawn[name](rng)}
            # Below the account's request budget (native/limits.py, 50/s): a 429 is not a search.
            time.sleep(max(0.0, next_at - time.perf_counter()))
            t0 = time.perf_counter()
            next_at = t0 + 1 / RATE
            answer = client.get("/api/v1/messages", params=params)
            latencies[name].append(time.perf_counter() - t0)
            if answer.status_code != 200:
                raise RuntimeError(f"{name} {params}: {answer.status_code} {answer.text[:300]}")
            found = answer.json()["messages"]
            if name in ("first", "deep", "status") and len(found) != PAGE:
                raise RuntimeError(f"{name} {params}: a short page of {len(found)}")
            for m in found:
                for key in ("status", "sender"):
                    if key in params and m[key] != params[key]:
                        raise RuntimeError(f"{name} {params}: {m}")
                if "phone" in params and m["to"] != params["phone"]:
                    raise RuntimeError(f"{name} {params}: {m}")
    return latencies


def pick(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--per-kind", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10, help="searches of each kind first")
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
        time_searches(gw.http_port, token, args.messages, args.warmup, 0)
        cpu0 = cpu_seconds(gw.pid)
        lat = time_searches(gw.http_port, token, args.messages, args.per_kind, args.seed)
        cpu = cpu_seconds(gw.pid) - cpu0
        every = [x for values in lat.values() for x in values]
        for name, values in lat.items():
            print(
                f"  {name:<11} p50 {pick(values, 0.5):7.2f} ms  p99 {pick(values, 0.99):7.2f} ms"
                f"  max {max(values) * 1000:7.2f} ms"
            )
        print(
            f"[search] {len(every)} sequential GET /api/v1/messages (pages of {PAGE}) over "
            f"{args.messages:,} messages of one account: p50 {pick(every, 0.5):.2f} ms, "
            f"p99 {pick(every, 0.99):.2f} ms, max {max(every) * 1000:.2f} ms; gateway CPU "
            f"{cpu / len(every) * 1e3:.2f} ms/request, RSS {rss_mb(gw.pid):.0f} MB; "
            f"load average {os.getloadavg()[0]:.2f}"
        )
    finally:
        gw.stop()


if __name__ == "__main__":
    main()
