"""Benchmark: the per-message callbacks' whole way out of the store: queued outbox rows read by
the outbox pump, sent by the callback transport (HttpSender over keep-alive connections) to a
local receiver, and settled in the store with one attempt logged each (issue #19's target:
>= 5,000 callbacks/s to a local receiver).

  .venv/bin/python bench/callback_pump.py                    # 20,000 callbacks, 4 accounts
  .venv/bin/python bench/callback_pump.py --callbacks 50000 --accounts 1

The store is SQLite in a temp dir (as a node's); the receiver is bench/webhook_callbacks.py's
child process answering 204. The rows are queued before the clock starts, so the figure is the
pump's and the sender's, not the message path's. Both processes share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time

from webhook_callbacks import _receiver

from smsgate.domain.status import Status
from smsgate.event_loop import install_uvloop
from smsgate.gateway.callbacks import CallbackTransport
from smsgate.gateway.outbox.outbox import Outbox, OutboxLeases
from smsgate.gateway.outbox.pump import PumpPolicy
from smsgate.store.records import CALLBACKS, NewOutboxItem, callback_payload
from smsgate.store.sql_store import SqlStore
from smsgate.webhooks.sender import HttpSender, SenderSettings


async def _run(
    port: int,
    callbacks: int,
    accounts: int,
    workdir: str,
    pipeline: int = 4,
    per_receiver: int | None = None,
    batch: int = 500,
) -> tuple[float, float, int]:
    store = SqlStore(f"sqlite+aiosqlite:///{workdir}/bench.db")
    await store.open()
    try:
        ids = [(await store.create_account(f"a{n}")).id for n in range(accounts)]
        payload = callback_payload(f"http://127.0.0.1:{port}/dlr?order=17", "POST")
        now = time.time()
        for start in range(0, callbacks, 1000):
            await store.outbox_add(
                [
                    NewOutboxItem(
                        ids[i % accounts], CALLBACKS, now, None, Status.DELIVRD, 0, payload
                    )
                    for i in range(start, min(start + 1000, callbacks))
                ]
            )
        settings = SenderSettings(allow_private=True, max_connections=256)
        if per_receiver is not None:
            settings = SenderSettings(
                allow_private=True, max_connections=256, max_per_receiver=per_receiver
            )
        async with HttpSender(settings) as sender:
            # As the node runs it: leased per account, batches of 500, 4 in flight each.
            outbox = Outbox(store, OutboxLeases(store, "bench"))
            policy = PumpPolicy(batch=batch, pipeline=pipeline)
            pump = outbox.pump(CallbackTransport(sender), policy)
            started = time.perf_counter()
            cpu = time.process_time()
            await pump.start()
            while pump.delivered + pump.given_up < callbacks:
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - started
            cpu_used = time.process_time() - cpu
            await pump.stop()
        return elapsed, cpu_used, pump.given_up
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--callbacks", type=int, default=20_000)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--pipeline", type=int, default=4, help="batches in flight per account")
    parser.add_argument(
        "--batch", type=int, default=500, help="rows per batch (a node under a trickle reads fewer)"
    )
    parser.add_argument(
        "--max-per-receiver", type=int, help="sends to the receiver at once (default: the node's)"
    )
    args = parser.parse_args()
    parent, child = multiprocessing.Pipe()
    receiver = multiprocessing.Process(target=_receiver, args=(child,), daemon=True)
    receiver.start()
    try:
        port = parent.recv()
        install_uvloop()
        with tempfile.TemporaryDirectory() as workdir:
            elapsed, cpu, dead = asyncio.run(
                _run(
                    port,
                    args.callbacks,
                    args.accounts,
                    workdir,
                    args.pipeline,
                    args.max_per_receiver,
                    args.batch,
                )
            )
    finally:
        receiver.terminate()
    print(
        f"{args.callbacks / elapsed:,.0f} callbacks/s ({args.callbacks} from {args.accounts} "
        f"accounts in {elapsed:.2f} s, {dead} dead letters; pump process CPU "
        f"{cpu / args.callbacks * 1e6:,.0f} us per callback incl. the store; "
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]})"
    )


if __name__ == "__main__":
    main()
