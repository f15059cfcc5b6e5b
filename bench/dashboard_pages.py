"""The dashboard's pages with a million messages stored: fills a SQLite store once (cached under
the temp dir, reused by later runs), starts `smsgate serve --demo` on it, logs in through the
login form like a browser and times sequential keep-alive requests of each page; prints
p50/p95/max per page and over all. Each answer is checked to be a 200 with its page's heading.

The fill is one INSERT ... SELECT over a recursive counter per table in one transaction,
straight into the store's migrated schema: the demo account (made an operator, so its pages
are timed too) holds N messages, one a second up to the fill's time (N = 1M: the last 11.6
days, so the charts' hour, 48 hours and month are full), each with its part, 200,000 distinct
recipients; 92% DELIVRD, 5% UNDELIV, 2% EXPIRED, 1% REJECTD (none on its way:
the node must not start sending them); senders 70% "smsgate", 29.9% "Promo", 0.1% "Rare". A
second account holds a tenth as many, interleaved, so the account's condition is not trivial.

    .venv/bin/python bench/dashboard_pages.py --messages 1000000 --per-page 40
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from alembic.config import Config
from harness import GatewayProcess, cpu_seconds, machine
from sqlalchemy import create_engine

from smsgate.domain.ids import EPOCH_TICKS, NODE_BITS, SEQUENCE_BITS, TICKS_PER_SECOND
from smsgate.gateway.demo_account import ensure_demo_account
from smsgate.store import migrate
from smsgate.store.sql_store import SqlStore

SHIFT = NODE_BITS + SEQUENCE_BITS
# The messages end about now (set by fill(), read back from its marker): the charts count the
# last hour, 48 hours and 30 days, and must find the account's busiest stretch there.
FIRST_TICK = 0
FRESH_FOR = 3_600.0  # seconds a fill is reused before it is made again, ending at the new now
PHONES = 200_000
TARGET_P95 = 0.100  # seconds: the bound for every page


def tick_of(n: int) -> int:
    return FIRST_TICK + n * TICKS_PER_SECOND  # one message a second


def message_id(n: int) -> int:
    return (tick_of(n) << SHIFT) | (n % 2048)


def created_at(n: int) -> float:
    return (EPOCH_TICKS + tick_of(n)) / TICKS_PER_SECOND


def phone_of(n: int) -> str:
    return f"38067{(n * 7919) % PHONES:07d}"


def cache_dir(messages: int) -> Path:
    return Path(tempfile.gettempdir()) / f"smsgate-bench-dashboard-{messages}"


async def _migrate_with_accounts(workdir: Path) -> tuple[int, int]:
    store = SqlStore(f"sqlite+aiosqlite:///{workdir}/smsgate.db")
    await store.open()
    try:
        await ensure_demo_account(store, workdir / "demo-credentials.json")
        creds = await store.credentials("demo")
        assert creds is not None
        await store.set_admin(creds.account.id, True)
        await store.top_up(creds.account.id, 10**6 * 10_000)
        other = await store.create_account("other")
        return creds.account.id, other.id
    finally:
        await store.close()


_TIME = f"({EPOCH_TICKS} + :first_tick + n * {TICKS_PER_SECOND}) / {float(TICKS_PER_SECOND)}"
_ID = f"(((:first_tick + n * {TICKS_PER_SECOND}) << {SHIFT}) | (n % 2048)) + :id_offset"
_FILL_MESSAGES = f"""
WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n + 1 < :count)
INSERT INTO messages (id, account_id, sender, phone, text, data_coding, parts, price_per_part,
                      status, door, integration_id, dedupe_key, created_at, expires_at, done_at,
                      error, client_ref)
SELECT
  {_ID},
  :account_id,
  CASE WHEN n % 1000 = 999 THEN 'Rare' WHEN n % 1000 >= 700 THEN 'Promo' ELSE 'smsgate' END,
  '38067' || printf('%07d', (n * 7919) % {PHONES}),
  'dashboard bench ' || (n / 100),
  0, 1, 5000,
  CASE WHEN n % 100 < 92 THEN 'DELIVRD' WHEN n % 100 < 97 THEN 'UNDELIV'
       WHEN n % 100 < 99 THEN 'EXPIRED' ELSE 'REJECTD' END,
  CASE WHEN n % 3 = 0 THEN 'json' WHEN n % 3 = 1 THEN 'http' ELSE 'smpp' END,
  NULL, randomblob(16), {_TIME}, {_TIME} + 86400, {_TIME} + 5, 0, NULL
FROM c
"""
_FILL_PARTS = f"""
WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n + 1 < :count)
INSERT INTO parts (id, message_id, seq, total, concat_ref, payload, state, billing, attempts,
                   due_at, connector, operator_id, submitted_at, done_at, error)
SELECT
  {_ID}, {_ID}, 1, 1, 0, x'00', CASE WHEN n % 100 < 92 THEN 10 WHEN n % 100 < 97 THEN 12
                                     WHEN n % 100 < 99 THEN 11 ELSE 13 END,
  0, 1, {_TIME}, 'simulator', printf('%x', n), {_TIME} + 0.05, {_TIME} + 5, 0
FROM c
"""


def fill(workdir: Path, messages: int) -> None:
    """The marker file is written last, so an interrupted fill is redone, not reused; it keeps
    the first message's tick, and a fill older than FRESH_FOR is made again."""
    global FIRST_TICK
    done = workdir / "filled"
    if done.exists() and time.time() - done.stat().st_mtime < FRESH_FOR:
        FIRST_TICK = int(done.read_text())
        return
    FIRST_TICK = int(time.time() * TICKS_PER_SECOND) - EPOCH_TICKS - messages * TICKS_PER_SECOND
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in workdir.glob("smsgate.db*"):
        stale.unlink()
    account_id, other_id = asyncio.run(_migrate_with_accounts(workdir))
    # The messages go in as of 0021, before the per-hour traffic counts; 0022 then counts them
    # as it would on a real upgrade (its time is printed).
    _migrate(workdir, command.downgrade, "0021")
    started = time.perf_counter()
    conn = sqlite3.connect(workdir / "smsgate.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")  # a throwaway fill: redone if interrupted
    conn.execute("PRAGMA cache_size = -400000")
    conn.execute("BEGIN")
    # The other account's ids sit in the same ticks, on node 1 (bit 11), so they interleave.
    for account, count, offset in ((account_id, messages, 0), (other_id, messages // 10, 2048)):
        values = {"count": count, "first_tick": FIRST_TICK, "account_id": account}
        conn.execute(_FILL_MESSAGES, {**values, "id_offset": offset})
        conn.execute(_FILL_PARTS, {"count": count, "first_tick": FIRST_TICK, "id_offset": offset})
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    print(f"fill: {messages:,} + {messages // 10:,} messages and their parts "
          f"in {time.perf_counter() - started:.0f} s")  # fmt: skip
    started = time.perf_counter()
    _migrate(workdir, command.upgrade, "head")
    print(f"fill: migrated to head (0022 counts the messages by hour) in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    done.write_text(str(FIRST_TICK))


def _migrate(workdir: Path, step: Callable[[Config, str], None], revision: str) -> None:
    engine = create_engine(f"sqlite:///{workdir}/smsgate.db")
    try:
        with engine.begin() as conn:
            step(migrate.alembic_config(conn), revision)
    finally:
        engine.dispose()


def _iso_minute(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M")


Request = tuple[str, str, dict[str, str] | None]  # method, path, form
Draw = Callable[[random.Random], Request]


def pages(messages: int) -> dict[str, tuple[Draw, str]]:
    """Each page: how to draw one request of it, and the text its answer must hold."""
    days = max(1, int((created_at(messages - 1) - created_at(0)) // 86_400))

    def get(path: str) -> Request:
        return ("GET", path, None)

    def day(rng: random.Random) -> str:
        start = created_at(0) + rng.randrange(days) * 86_400
        return f"since={_iso_minute(start)}&until={_iso_minute(start + 86_400)}"

    return {
        "log": (lambda rng: get("/dashboard/messages"), "<h1>Messages</h1>"),
        "log rows (polled)": (lambda rng: get("/dashboard/messages/rows"), 'id="log"'),
        "log deep page": (
            lambda rng: get(f"/dashboard/messages?before={message_id(rng.randrange(messages))}"),
            "<h1>Messages</h1>",
        ),
        "log phone": (
            lambda rng: get(f"/dashboard/messages?phone={phone_of(rng.randrange(messages))}"),
            "<h1>Messages</h1>",
        ),
        "log status": (
            lambda rng: get(f"/dashboard/messages?status={rng.choice(['REJECTD', 'UNDELIV'])}"),
            "<h1>Messages</h1>",
        ),
        "log sender": (lambda rng: get("/dashboard/messages?sender=Rare"), "<h1>Messages</h1>"),
        "log day": (lambda rng: get(f"/dashboard/messages?{day(rng)}"), "<h1>Messages</h1>"),
        "message": (
            lambda rng: get(f"/dashboard/messages/{message_id(rng.randrange(messages))}"),
            'id="timeline"',
        ),
        "message status (polled)": (
            lambda rng: get(f"/dashboard/messages/{message_id(rng.randrange(messages))}/status"),
            'id="timeline"',
        ),
        "send": (lambda rng: get("/dashboard/send"), "<h1>Send</h1>"),
        "quote": (
            lambda rng: ("POST", "/dashboard/send/quote", {"phones": phone_of(7), "text": "Hi"}),
            'id="q-total"',
        ),
        "charts": (lambda rng: get("/dashboard/charts"), "<h1>Charts</h1>"),
        "chart per minute": (
            lambda rng: get("/dashboard/charts/traffic?span=minute"),
            'id="traffic"',
        ),
        "chart per hour": (
            lambda rng: get("/dashboard/charts/traffic?span=hour"),
            'id="traffic"',
        ),
        "chart per day (60 s)": (
            lambda rng: get("/dashboard/charts/traffic?span=day"),
            'id="traffic"',
        ),
        "chart statuses (60 s)": (
            lambda rng: get("/dashboard/charts/statuses"),
            'id="status-table"',
        ),
        "chart countries (60 s)": (
            lambda rng: get("/dashboard/charts/countries"),
            'id="country-table"',
        ),
        "chart balance": (lambda rng: get("/dashboard/charts/balance"), 'id="balance-chart"'),
        "inbound": (lambda rng: get("/dashboard/inbound"), "<h1>Inbound</h1>"),
        "webhooks": (lambda rng: get("/dashboard/webhooks"), "<h1>Webhooks</h1>"),
        "account": (lambda rng: get("/dashboard/account"), "<h1>Account</h1>"),
        "operator": (lambda rng: get("/dashboard/operator"), "<h1>Operator</h1>"),
        "operator live (polled)": (lambda rng: get("/dashboard/operator/live"), 'id="live"'),
    }


def log_in(client: httpx.Client, login: str, password: str) -> str:
    form = client.get("/dashboard/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = client.post(
        "/dashboard/login", data={"csrf": csrf.group(1), "login": login, "password": password}
    )
    assert answer.status_code == 303, answer.text
    page = client.get("/dashboard/messages")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def time_pages(
    port: int, pid: int, creds: dict[str, str], messages: int, per_page: int, seed: int
) -> dict[str, Any]:
    """Sequential requests on one keep-alive connection, the pages interleaved at random; under
    "first", each page's first request (nothing cached: "(60 s)" pages reuse a count that long);
    under "cpu", the node's CPU seconds each request took (clock ticks of 10 ms: a mean over
    many requests is what they are good for; unlike latency, a loaded machine barely moves it)."""
    rng = random.Random(seed)
    drawn = pages(messages)
    order = [name for name in drawn for _ in range(per_page)]
    rng.shuffle(order)
    latencies: dict[str, list[float]] = {name: [] for name in drawn}
    first: dict[str, float] = {}
    cpu: dict[str, list[float]] = {name: [] for name in drawn}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        csrf = log_in(client, creds["login"], creds["password"])
        for name in drawn:  # one of each first (timed apart): templates compiled, caches warm
            method, path, form = drawn[name][0](rng)
            t0 = time.perf_counter()
            client.request(method, path, data=None if form is None else {**form, "csrf": csrf})
            first[name] = time.perf_counter() - t0
        for name in order:
            method, path, form = drawn[name][0](rng)
            data = None if form is None else {**form, "csrf": csrf}
            c0, t0 = cpu_seconds(pid), time.perf_counter()
            answer = client.request(method, path, data=data)
            latencies[name].append(time.perf_counter() - t0)
            cpu[name].append(cpu_seconds(pid) - c0)
            if answer.status_code != 200 or drawn[name][1] not in answer.text:
                raise AssertionError(f"{name} {path}: {answer.status_code} {answer.text[:300]}")
    return {"first": {name: [value] for name, value in first.items()}, "cpu": cpu, **latencies}


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--per-page", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    workdir = cache_dir(args.messages)
    fill(workdir, args.messages)
    gateway = GatewayProcess(workdir=workdir)
    gateway.start()
    try:
        latencies = time_pages(
            gateway.http_port,
            gateway.pid,
            gateway.credentials,
            args.messages,
            args.per_page,
            args.seed,
        )
    finally:
        gateway.stop()
    print(machine())
    print(f"{args.messages:,} messages of the account (+{args.messages // 10:,} of another), "
          f"{args.per_page} requests a page, sequential, one keep-alive connection")  # fmt: skip
    first = latencies.pop("first")
    cpu = latencies.pop("cpu")
    print(f"{'page':<26}{'first ms':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'cpu ms':>9}")
    every: list[float] = []
    over = []
    for name, values in latencies.items():
        every.extend(values)
        p95 = quantile(values, 0.95)
        if p95 > TARGET_P95:
            over.append(name)
        print(
            f"{name:<26}{first[name][0] * 1000:>9.1f}{quantile(values, 0.5) * 1000:>9.1f}"
            f"{p95 * 1000:>9.1f}{max(values) * 1000:>9.1f}"
            f"{sum(cpu[name]) / len(cpu[name]) * 1000:>9.1f}"
        )
    print(
        f"{'all pages':<26}{'':>9}{quantile(every, 0.5) * 1000:>9.1f}"
        f"{quantile(every, 0.95) * 1000:>9.1f}{max(every) * 1000:>9.1f}"
    )
    print("p95 over 100 ms: " + (", ".join(over) if over else "none"))


if __name__ == "__main__":
    main()
