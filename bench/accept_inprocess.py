"""Benchmark: the accept path in one process, without HTTP: concurrent callers of the doors'
ASGI app (JSON door → Gateway.send → group commit → SQLite writer thread), so what it measures
is smsgate's own cost per request, not uvicorn's or a load generator's.

  .venv/bin/python bench/accept_inprocess.py                      # 1 recipient, 128 callers
  .venv/bin/python bench/accept_inprocess.py --recipients 100 --callers 8 --requests 400

Prints requests/s and messages/s (wall), the process CPU per message (event loop + writer
thread), and the writer thread's own CPU and the wall time of its transactions.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import use_uvloop

from smsgate.domain.ids import IdGenerator
from smsgate.doors.app import build_app
from smsgate.gateway.accounts import AccountCache
from smsgate.gateway.credentials import hash_token
from smsgate.gateway.facade import Gateway
from smsgate.gateway.outbox.outbox import Outbox
from smsgate.gateway.submit import Submitter
from smsgate.process_tuning import SWITCH_INTERVAL
from smsgate.store import writer as writer_module
from smsgate.store.records import Tariff
from smsgate.store.sql_store import SqlStore

_stats: dict[str, Any] = {"cpu": 0.0, "walls": []}


def _timed_transactions() -> None:
    """Wrap the writer's transaction to count its thread CPU and wall time."""
    original = writer_module.ThreadWriter._in_transaction

    def timed(self: writer_module.ThreadWriter, work: Callable[..., Any]) -> Any:
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            return original(self, work)
        finally:
            _stats["cpu"] += time.thread_time() - cpu
            _stats["walls"].append(time.perf_counter() - wall)

    writer_module.ThreadWriter._in_transaction = timed  # type: ignore[method-assign]


async def run(requests: int, callers: int, recipients: int) -> None:
    store = SqlStore(f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='smsgate-accept-')}/s.db")
    await store.open()
    await store.set_tariff(Tariff(account_id=None, prefix="", price=5_000))
    account = await store.create_account("bench", rate_limit=0)
    await store.set_token_hash(account.id, hash_token("bench-token"))
    await store.top_up(account.id, 10**15)
    await store.add_originator(account.id, "smsgate")
    accounts = AccountCache(store)
    gateway = Gateway(Submitter(store, accounts, IdGenerator(1)), accounts, store, Outbox(store))

    async def health() -> dict[str, object]:
        return {"ok": True}

    app = build_app(gateway, health)
    headers = [(b"authorization", b"Bearer bench-token"), (b"content-type", b"application/json")]
    counter = 0

    async def one() -> None:
        nonlocal counter
        counter += 1
        phones = b",".join(
            b'"38050%07d"' % ((counter * recipients + j) % 10**7) for j in range(recipients)
        )
        body = b'{"phone":[%s],"message":"bench %d","src_addr":"smsgate"}' % (phones, counter)
        scope = {"type": "http", "method": "POST", "path": "/sms/send", "headers": headers}
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: Any) -> None:
            sent.append(message)

        await app(scope, receive, send)
        if sent[0]["status"] != 200 or b'"add_info"' in sent[1]["body"]:
            raise SystemExit(f"a request was not wholly accepted: {sent}")

    async def caller() -> None:
        for _ in range(requests // callers):
            await one()

    await asyncio.gather(*(caller() for _ in range(callers)))  # warm-up: caches, pages
    _stats["cpu"], _stats["walls"] = 0.0, []
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await store.close()
    done = requests // callers * callers
    messages = done * recipients
    walls = sorted(_stats["walls"])
    print(
        f"{done} requests x {recipients} recipients, {callers} callers: "
        f"{done / wall:,.0f} requests/s, {messages / wall:,.0f} messages/s; "
        f"{cpu / messages * 1e6:.1f} µs CPU/message (loop + writer)"
    )
    print(
        f"writer thread: {_stats['cpu'] / messages * 1e6:.1f} µs CPU/message in {len(walls)} "
        f"transactions; transaction wall p50 {walls[len(walls) // 2] * 1000:.2f} ms, "
        f"p99 {walls[int(len(walls) * 0.99)] * 1000:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--callers", type=int, default=128)
    parser.add_argument("--recipients", type=int, default=1)
    args = parser.parse_args()
    use_uvloop()
    sys.setswitchinterval(SWITCH_INTERVAL)  # as a node runs
    _timed_transactions()
    asyncio.run(run(args.requests, args.callers, args.recipients))


if __name__ == "__main__":
    main()
