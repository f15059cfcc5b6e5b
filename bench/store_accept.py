"""Benchmark of SqlStore.accept(): concurrent callers through the group-commit writer.

Prints accept calls/s with 1-message calls and messages/s with 100-message calls, and the
machine it ran on. Usage:

    .venv/bin/python bench/store_accept.py [--url sqlite+aiosqlite:///./var/bench.db]
        [--callers 64] [--seconds 5] [--synchronous NORMAL]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import shutil
import sys
import tempfile
import time

from smsgate.store.records import AcceptRequest, NewMessage, NewPart, RateLimit
from smsgate.store.sql_store import SqlStore

_ids = itertools.count(1)


def _message(account_id: int, now: float) -> NewMessage:
    mid = next(_ids)
    text = f"Your code is {mid}"
    return NewMessage(
        id=mid,
        account_id=account_id,
        sender="Shop",
        phone=f"380{500000000 + mid % 100_000_000}",
        text=text,
        data_coding=0,
        price_per_part=5_000,
        parts=(NewPart(next(_ids), 1, 1, mid % 65536, text.encode()),),
        created_at=now,
        expires_at=now + 86_400,
        door="json",
        dedupe_key=mid.to_bytes(8, "big") * 2,
    )


async def _run(
    store: SqlStore, account_id: int, callers: int, per_call: int, seconds: float
) -> int:
    stop = time.perf_counter() + seconds
    accepted = 0
    limit = RateLimit(rate=0, burst=1)  # the bucket is read and written, and never refuses

    async def caller() -> None:
        nonlocal accepted
        while time.perf_counter() < stop:
            now = time.time()
            messages = tuple(_message(account_id, now) for _ in range(per_call))
            result = await store.accept(AcceptRequest(account_id, now, messages, limit))
            accepted += len(result.outcomes)

    await asyncio.gather(*(caller() for _ in range(callers)))
    return accepted


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--callers", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--synchronous", default="NORMAL")
    args = parser.parse_args()
    tmp = None
    url = args.url
    if url is None:
        tmp = tempfile.mkdtemp(prefix="smsgate-bench-")
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
    store = SqlStore(url, synchronous=args.synchronous)
    await store.open()
    try:
        account = await store.create_account(f"bench{time.time_ns()}", rate_limit=0)
        await store.top_up(account.id, 10**15)
        print(
            f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
            f"{platform.system()} {platform.release()}, Python {sys.version.split()[0]}"
        )
        print(
            f"store: {url.split('://')[0]} synchronous={args.synchronous}, {args.callers} callers"
        )
        for per_call in (1, 100):
            t0 = time.perf_counter()
            accepted = await _run(store, account.id, args.callers, per_call, args.seconds)
            elapsed = time.perf_counter() - t0
            calls = accepted / per_call
            print(
                f"{per_call:>3} message(s)/call: {calls / elapsed:>9,.0f} accept calls/s "
                f"{accepted / elapsed:>9,.0f} messages/s"
            )
    finally:
        await store.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
