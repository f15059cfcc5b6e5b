"""Benchmark: the event loop's CPU per request on the accept path (JSON door → Submitter), alone.

The doors' ASGI app (`build_app`) is driven in one thread by a few concurrent callers, over a
store whose `accept` answers at once (every message ACCEPTED) and whose reads answer from memory.
Nothing else runs, so `time.thread_time()` around the run is the loop's own CPU and a cProfile of
it is true (no GIL contention, no writer thread). With `--sql` the store is a real SqlStore (its
writer thread commits for real) and `time.thread_time()` still counts only the loop thread.

  .venv/bin/python bench/submit_cpu.py                       # 1 recipient per request
  .venv/bin/python bench/submit_cpu.py --recipients 100      # µs per message at 100 recipients
  .venv/bin/python bench/submit_cpu.py --profile 25          # cProfile, top 25 by own time
  .venv/bin/python bench/submit_cpu.py --rounds 5            # best of 5 rounds
  .venv/bin/python bench/submit_cpu.py --sql                  # real SqlStore, loop thread only

Every phone number is a new one (a campaign to distinct recipients), so the phone cache never
hits: the worst case for the loop. `--repeat-phones` sends the same numbers every request,
`--same-text` the same text (a campaign; by default each request has its own text).
For an A/B run, check out the other tree elsewhere and run both with PYTHONPATH=<tree>/src,
interleaved (see bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Sequence
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
from smsgate.store.records import (
    AcceptRequest,
    AcceptResult,
    AccountRecord,
    Outcome,
    Suppression,
    Tariff,
)
from smsgate.store.sql_store import SqlStore

TOKEN = "bench-token-0123456789abcdefghijklmnopqrstuvwxyz"


class InstantStore:
    """The few store calls the accept path makes, answered from memory at once."""

    def __init__(self) -> None:
        self.account = AccountRecord(1, "bench", "UAH", 0.0, 4, True)
        self.token_hash = hash_token(TOKEN)

    async def account_by_token_hash(self, token_hash: str) -> AccountRecord | None:
        return self.account if token_hash == self.token_hash else None

    async def originators(self, account_id: int) -> list[str]:
        return ["smsgate"]

    async def tariffs(self, account_id: int) -> list[Tariff]:
        return [Tariff(None, "", 5_000), Tariff(None, "380", 4_000)]

    async def accept(self, request: AcceptRequest) -> AcceptResult:
        return AcceptResult(None, (Outcome.ACCEPTED,) * len(request.messages))

    async def suppressions(self, account_id: int) -> list[Suppression]:
        return []  # nobody opted out: the per-recipient lookup is an empty set's


def _bodies(args: argparse.Namespace, count: int, offset: int) -> list[bytes]:
    bodies = []
    recipients = args.recipients
    for n in range(offset, offset + count):
        base = 0 if args.repeat_phones else n * recipients
        phones = b",".join(b'"38050%07d"' % ((base + j) % 10**7) for j in range(recipients))
        text = b"bench" if args.same_text else b"bench %d" % n
        bodies.append(b'{"phone":[%s],"message":"%s","src_addr":"smsgate"}' % (phones, text))
    return bodies


async def _drive(app: Any, bodies: Sequence[bytes], callers: int) -> None:
    headers = [
        (b"authorization", b"Bearer " + TOKEN.encode()),
        (b"content-type", b"application/json"),
    ]
    scope = {"type": "http", "method": "POST", "path": "/sms/send", "headers": headers}
    queue = list(reversed(bodies))

    async def caller() -> None:
        while queue:
            body = queue.pop()
            sent: list[Any] = []

            async def receive(body: bytes = body) -> dict[str, Any]:
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: Any, sent: list[Any] = sent) -> None:
                sent.append(message)

            await app(dict(scope), receive, send)
            if sent[0]["status"] != 200 or b'"add_info"' in sent[1]["body"]:
                raise SystemExit(f"a request was not wholly accepted: {sent}")

    await asyncio.gather(*(caller() for _ in range(callers)))


async def _sql_store() -> Any:
    """A real SqlStore on a new file, set up as bench/accept_inprocess.py does."""
    store = SqlStore(f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='smsgate-submit-')}/s.db")
    await store.open()
    await store.set_tariff(Tariff(account_id=None, prefix="", price=5_000))
    account = await store.create_account("bench", rate_limit=0)
    await store.set_token_hash(account.id, hash_token(TOKEN))
    await store.top_up(account.id, 10**15)
    await store.add_originator(account.id, "smsgate")
    return store


async def run(args: argparse.Namespace) -> list[float]:
    store: Any = await _sql_store() if args.sql else InstantStore()
    accounts = AccountCache(store)
    gateway = Gateway(Submitter(store, accounts, IdGenerator(1)), accounts, store, Outbox(store))

    async def health() -> dict[str, object]:
        return {"ok": True}

    app = build_app(gateway, health)
    offset = 0
    warm = _bodies(args, args.warmup, offset)
    offset += len(warm)
    await _drive(app, warm, args.callers)
    per_message: list[float] = []
    for _ in range(args.rounds):
        bodies = _bodies(args, args.requests, offset)
        offset += len(bodies)
        profile = cProfile.Profile() if args.profile else None
        cpu = time.thread_time()
        if profile is not None:
            profile.enable()
        await _drive(app, bodies, args.callers)
        if profile is not None:
            profile.disable()
        cpu = time.thread_time() - cpu
        per_message.append(cpu / (len(bodies) * args.recipients) * 1e6)
        if profile is not None:
            pstats.Stats(profile).sort_stats("tottime").print_stats(args.profile)
    if args.sql:
        await store.close()
    return per_message


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--recipients", type=int, default=1)
    parser.add_argument("--callers", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=500, help="requests before the rounds")
    parser.add_argument("--repeat-phones", action="store_true")
    parser.add_argument("--same-text", action="store_true", help="one text in every request")
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions")
    parser.add_argument(
        "--sql", action="store_true", help="a real SqlStore; only the loop thread's CPU is counted"
    )
    args = parser.parse_args()
    if args.recipients > 1 and args.requests == 20_000:
        args.requests = 1_000
    loop = use_uvloop()
    sys.setswitchinterval(SWITCH_INTERVAL)  # as a node runs
    figures = asyncio.run(run(args))
    unit = "request" if args.recipients == 1 else "message"
    print(
        f"{args.requests} requests x {args.recipients} recipients, {args.callers} callers, "
        f"{loop}: loop CPU µs/{unit} best {min(figures):.1f}, "
        f"rounds {' '.join(f'{f:.1f}' for f in figures)}"
    )


if __name__ == "__main__":
    main()
