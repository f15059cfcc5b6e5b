"""Benchmark of the store's write path: SqlStore.accept() from concurrent callers through the
group-commit writer, then a message's whole life (accept, claim, submitted, receipt).

Prints accept calls/s with 1-message calls and messages/s with 100-message calls; then, for
`--messages` one-part messages taken through each later write in batches of `--batch` (the
size the gateway's batchers reach at ~1,000 msg/s), the process CPU per message of each stage.
Usage:

    .venv/bin/python bench/store_accept.py [--url sqlite+aiosqlite:///./var/bench.db]
        [--callers 64] [--seconds 5] [--synchronous NORMAL] [--messages 20000] [--batch 10]
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

from smsgate.domain.status import PartState
from smsgate.store.records import (
    AcceptRequest,
    NewMessage,
    NewPart,
    OperatorReceipt,
    RateLimit,
    SubmitDone,
)
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


async def _lifecycle(store: SqlStore, account_id: int, messages: int, batch: int) -> None:
    """Each stage alone, one batch after another as the gateway's batchers send them; CPU is
    the whole process's (event loop + writer thread), per message."""
    limit = RateLimit(rate=0, burst=1)
    sent = 0

    async def accept_one() -> None:
        nonlocal sent
        while sent < messages:
            sent += 1
            now = time.time()
            await store.accept(AcceptRequest(account_id, now, (_message(account_id, now),), limit))

    def report(stage: str, cpu0: float, wall0: float, count: int) -> None:
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        print(
            f"{stage:>14}: {cpu / count * 1e6:>7.1f} µs CPU/message "
            f"{count / wall:>9,.0f} messages/s"
        )

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(accept_one() for _ in range(64)))
    report("accept", cpu0, wall0, messages)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    claimed = []
    while True:
        got = await store.claim_parts(store.node_id, time.time(), batch, 300.0)
        if not got:
            break
        claimed.extend(got)
    report("claim_parts", cpu0, wall0, len(claimed))

    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(0, len(claimed), batch):
        now = time.time()
        await store.submitted(
            [SubmitDone(p.part_id, "op", f"op-{p.part_id}", now) for p in claimed[i : i + batch]]
        )
    report("submitted", cpu0, wall0, len(claimed))

    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(0, len(claimed), batch):
        now = time.time()
        await store.apply_receipts(
            [
                OperatorReceipt("op", f"op-{p.part_id}", PartState.DELIVRD, 0, now)
                for p in claimed[i : i + batch]
            ]
        )
    report("apply_receipts", cpu0, wall0, len(claimed))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--callers", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--synchronous", default="NORMAL")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=10)
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
        if args.messages:
            print(f"lifecycle: {args.messages:,} messages, batches of {args.batch}")
            await _lifecycle(store, account.id, args.messages, args.batch)
    finally:
        await store.close()
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
